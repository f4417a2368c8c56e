// "Bluepill: Explain This Address": any address, code or data. From the palette (an address you
// type), the Variables view's context menu (the variable's memoryReference or the address in its
// value) and the Bluepill State view's address rows (PC, SP, fault address, ucontext).
// During a session of a process on this machine (an attach by pid, or a launch whose debuggee is
// found as dlv's child) the process's /proc and ELF say what the address is; in a remote session
// the binary's sections and dlv say what they can, and the rest is said to be unknown.
// "Explain This PC" (bluepill.explainPc) stays as it was: the focused frame's PC.
import * as vscode from 'vscode';
import { addressExplanationMarkdown, explainAddress as classify, type AddressExplanation } from '../adapter/explain/addressKinds';
import { explanationMarkdown, type Explanation } from '../adapter/explain/explain';
import { binaryFacts, explainProcessAddress, launchedDebuggee } from '../adapter/explain/localProcess';
import { goHeapSpan, withDlvHeapFacts } from '../adapter/explain/goHeapDlv';
import { DEBUG_TYPE } from './debugType';
import { askHexAddress, explainTypedAddress, HEX_ADDRESS, hexAddress, inSession, sessionBinary, showMarkdown } from './explainPc';
import { readOnlyObserver } from './readOnlySessions';

export interface AddressAnswer {
  address?: AddressExplanation;
  code?: Explanation;
}

export async function explainAddressCommand(arg?: unknown): Promise<AddressAnswer | undefined> {
  try {
    const address = addressFromArgument(arg) ?? (await askHexAddress('Explain This Address', 'An address, in hex (0x optional): code or data', '0x4000460e20'));
    if (!address) return undefined;
    const answer = await answerFor(address);
    if (!answer) return undefined;
    const parts = [answer.address && addressExplanationMarkdown(answer.address), answer.code && explanationMarkdown(answer.code)].filter(Boolean);
    await showMarkdown(address, parts.join('\n\n---\n\n'));
    return answer;
  } catch (e) {
    void vscode.window.showErrorMessage(`bluepill-lens: ${(e as Error).message}`);
    return undefined;
  }
}

/** The address in what VS Code or a script passes: a variable of the Variables view, a state view row, { address }. */
export function addressFromArgument(arg: unknown): string | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { address?: unknown; variable?: { memoryReference?: unknown; value?: unknown; name?: unknown }; command?: { arguments?: unknown[] } };
  if (typeof a.address === 'string') return checked(a.address);
  if (a.variable) {
    // dlv gives pointers a memoryReference; a uintptr or an address in the value text counts too.
    const fromRef = typeof a.variable.memoryReference === 'string' && HEX_ADDRESS.test(a.variable.memoryReference) ? a.variable.memoryReference : undefined;
    const fromValue = typeof a.variable.value === 'string' ? (/0x[0-9a-f]{1,16}\b/i.exec(a.variable.value)?.[0] ?? (/^\d+$/.test(a.variable.value) ? `0x${BigInt(a.variable.value).toString(16)}` : undefined)) : undefined;
    const found = fromRef ?? fromValue;
    if (!found) throw new Error(`the variable ${String(a.variable.name ?? '')} holds no address (its value is ${String(a.variable.value)}): pick a pointer, a uintptr or a register.`);
    return hexAddress(found);
  }
  const rowValue = a.command?.arguments?.[0];
  if (typeof rowValue === 'string') return checked(rowValue.split(' ')[0]);
  return undefined;
}

function checked(text: string): string {
  if (!HEX_ADDRESS.test(text.trim())) throw new Error(`"${text}" is not an address: write it in hex, e.g. 0xc000012345.`);
  return hexAddress(text);
}


/** The explanation with the Go heap span dlv reads (a stopped session); unchanged when dlv cannot. */
async function withSpan(session: vscode.DebugSession, e: AddressExplanation, arch: 'amd64' | 'arm64'): Promise<AddressExplanation> {
  const item = vscode.debug.activeStackItem;
  const frameId = item instanceof vscode.DebugStackFrame && item.session.id === session.id ? item.frameId : undefined;
  const evaluate = async (expression: string) => {
    try {
      return ((await session.customRequest('evaluate', { expression, frameId, context: 'repl' })) as { result?: string }).result;
    } catch {
      return undefined; // running, or not a Go program: nothing said
    }
  };
  return withDlvHeapFacts(e, await goHeapSpan(BigInt(e.address), arch, evaluate));
}

/** The pid of the active session's process when it runs on this machine. */
export function localProcessOf(session: vscode.DebugSession | undefined): number | undefined {
  if (!session || (session.type !== DEBUG_TYPE && !readOnlyObserver(session))) return undefined;
  const c = session.configuration;
  const remote = c.mode === 'remote' || (c.host !== undefined && c.port !== undefined);
  if (remote || process.platform !== 'linux') return undefined;
  if (c.request === 'attach') {
    const pid = Number(c.processId);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  }
  return typeof c.program === 'string' && c.mode !== 'core' ? launchedDebuggee(c.program) : undefined;
}

async function answerFor(address: string): Promise<AddressAnswer | undefined> {
  const session = vscode.debug.activeDebugSession;
  const followed = session && (session.type === DEBUG_TYPE || readOnlyObserver(session)) ? session : undefined;
  const pid = localProcessOf(session);
  if (pid !== undefined) {
    const answer = explainProcessAddress(pid, BigInt(address));
    const inHeapMemory = answer.address.kind === 'go-heap' || (answer.address.kind === 'thread-stack' && answer.address.mapping?.path === '(anonymous)');
    if (followed && inHeapMemory) answer.address = await withSpan(followed, answer.address, answer.arch);
    return answer;
  }
  if (followed) {
    // Remote (or a core file): what the binary's sections say, dlv's view of it as code, and of the Go heap.
    const binary = sessionBinary();
    let where = binary ? classify(BigInt(address), binaryFacts(binary), `the ELF sections of ${binary} (no /proc of the debuggee here)`) : undefined;
    if (where?.kind === 'unknown' && binary) where = await withSpan(followed, where, binaryFacts(binary).arch);
    const code = !where || where.kind === 'code' ? await inSession({ address }).catch(() => undefined) : undefined;
    return where || code ? { address: where, code } : undefined;
  }
  const code = await explainTypedAddress(address);
  return code ? { code } : undefined;
}
