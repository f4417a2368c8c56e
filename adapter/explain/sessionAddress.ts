// Explain This Address inside a debug session, the one rule for every front end (the
// `bluepill/explainAddress` DAP request, and VS Code for the sessions it only follows):
// a debuggee on this machine is explained from its /proc and ELF, a remote one (or a core)
// from the binary's sections; where the address is Go heap memory, dlv reads its span
// through `evaluate` at the current stop. What neither can say stays unknown.
import { explainAddress, type AddressExplanation } from './addressKinds';
import { binaryFacts, explainProcessAddress } from './localProcess';
import { goHeapSpan, withDlvHeapFacts, type Evaluate } from './goHeapDlv';
import type { Explanation } from './explain';

export interface SessionAddressInput {
  address: bigint;
  /** The debuggee's pid, when it runs on this machine. */
  pid?: number;
  /** The session's binary on this machine, for a debuggee elsewhere (a board) or a core file. */
  binary?: string;
  /** dlv's evaluate at the current stop; undefined when it cannot answer (running, not Go). */
  evaluate: Evaluate;
}

export interface SessionAddressAnswer {
  /** What the address is (mapping, section, heap span...), when the process or the binary says. */
  address?: AddressExplanation;
  arch?: 'amd64' | 'arm64';
  /** For code of the executable on this machine: the PC explanation. */
  code?: Explanation;
}

export async function explainSessionAddress(i: SessionAddressInput): Promise<SessionAddressAnswer> {
  if (i.pid !== undefined) {
    const answer = explainProcessAddress(i.pid, i.address);
    // Go's heap, or an anonymous mapping a goroutine stack may be in: dlv's view of the span.
    const inHeapMemory = answer.address.kind === 'go-heap' || (answer.address.kind === 'thread-stack' && answer.address.mapping?.path === '(anonymous)');
    if (inHeapMemory) answer.address = withDlvHeapFacts(answer.address, await goHeapSpan(i.address, answer.arch, i.evaluate));
    return answer;
  }
  if (i.binary) {
    const facts = binaryFacts(i.binary);
    let address = explainAddress(i.address, facts, `the ELF sections of ${i.binary} (no /proc of the debuggee here)`);
    if (address.kind === 'unknown') address = withDlvHeapFacts(address, await goHeapSpan(i.address, facts.arch, i.evaluate));
    return { address, arch: facts.arch };
  }
  return {};
}
