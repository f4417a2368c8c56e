// "Bluepill: Explain This Address": any address, code or data. From the palette (an address you
// type), the Variables view's context menu (the variable's memoryReference or the address in its
// value) and the Bluepill State view's address rows (PC, SP, fault address, ucontext).
// During a session of a process on this machine (an attach by pid, or a launch whose debuggee is
// found as dlv's child) the process's /proc and ELF say what the address is; in a remote session
// the binary's sections and dlv say what they can, and the rest is said to be unknown.
// "Explain This PC" (bluepill.explainPc) stays as it was: the focused frame's PC.
import * as vscode from 'vscode';
import { addressExplanationMarkdown, type AddressExplanation } from '../adapter/explain/addressKinds';
import { explanationMarkdown, type Explanation } from '../adapter/explain/explain';
import { launchedDebuggee } from '../adapter/explain/localProcess';
import { explainSessionAddress } from '../adapter/explain/sessionAddress';
import { EXPLAIN_ADDRESS_REQUEST } from '../adapter/hooks/bluepill/explainAddressRequest';
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


/** dlv's evaluate in a session VS Code only follows (vscode-go), at the focused frame. */
function followedEvaluate(session: vscode.DebugSession): (expression: string) => Promise<string | undefined> {
  const item = vscode.debug.activeStackItem;
  const frameId = item instanceof vscode.DebugStackFrame && item.session.id === session.id ? item.frameId : undefined;
  return async (expression) => {
    try {
      return ((await session.customRequest('evaluate', { expression, frameId, context: 'repl' })) as { result?: string }).result;
    } catch {
      return undefined; // running, or not a Go program: nothing said
    }
  };
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
  // A bluepill session: the adapter answers (the same rule any DAP client gets).
  if (session?.type === DEBUG_TYPE) {
    const answer = (await session.customRequest(EXPLAIN_ADDRESS_REQUEST, { address })) as AddressAnswer;
    return answer.address || answer.code ? answer : undefined;
  }
  // A session VS Code only follows (vscode-go): the same rule, run here, with the session's dlv.
  if (session && readOnlyObserver(session)) {
    const found = await explainSessionAddress({ address: BigInt(address), pid: localProcessOf(session), binary: sessionBinary(), evaluate: followedEvaluate(session) });
    const code = found.code ?? (!found.address || found.address.kind === 'code' ? await inSession({ address }).catch(() => undefined) : undefined);
    return found.address || code ? { address: found.address, code } : undefined;
  }
  const code = await explainTypedAddress(address);
  return code ? { code } : undefined;
}
