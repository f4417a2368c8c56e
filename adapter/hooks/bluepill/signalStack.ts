// Splices the stack a signal interrupted into the Call Stack. dlv unwinds through a
// signal frame only for the Go runtime's own handler; below gVisor's handler its stack
// is cut or goes on at the interrupted LR, and after bluepillGuestExit nothing shows
// the guest's stack. In the handler's phases the tracker has read the ucontext; from
// its PC, SP and frame pointer this hook unwinds (bluepill/unwind.ts) with its own
// memory reads and appends the frames below all of dlv's, after a separator:
//   "interrupted (host, EL0)"   the context the kernel saved at the trap;
//   "guest at exit (EL1)"       once bluepillGuestExit wrote the guest's registers in.
// The frames carry ids dlv never gives (session.ts, SIGNAL_FRAME_ID_BASE): a request
// about one of them gets an answer here instead of reaching dlv.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { errorResponse, ProxyErrorId, successResponse } from '../../dap/messages';
import { readWords } from '../../bluepill/memory';
import { unwindFramePointers, type UnwoundFrame } from '../../bluepill/unwind';
import { symbolize } from '../../elf/symbols';
import { isSignalFrameId, SIGNAL_FRAME_ID_BASE, type BluepillSession, type SignalContext } from './session';

/** Marks every frame unwound here, so nobody takes it for one of dlv's. */
export const SIGNAL_FRAME_PREFIX = '(ucontext) ';

const SEPARATORS = {
  arm64: { host: 'interrupted (host, EL0)', guest: 'guest at exit (EL1)' },
  amd64: { host: 'interrupted (host, ring 3)', guest: 'guest at exit (ring 0)' },
} as const;

/** Requests that name a frame; dlv knows none of the proxy's. */
const FRAME_REQUESTS = new Set(['scopes', 'evaluate', 'setExpression', 'restartFrame', 'stepInTargets', 'gotoTargets', 'completions']);
const NOT_DLVS =
  'This frame was unwound by bluepill-lens from the signal context (the ucontext), not by dlv: it has no variables and nothing can be evaluated in it. Select a frame above the separator to inspect variables.';

/** Bytes before a return address where its call instruction starts: arm64 BL; amd64 CALL rel32. */
const CALL_LENGTH = { arm64: 4n, amd64: 5n } as const;
const CALL_TEXT = /^(BL|BLR|CALL)\b/;
const ID_SPACE = 0x7fffffff - SIGNAL_FRAME_ID_BASE;

export function signalStackHooks(session: BluepillSession): ProxyHook[] {
  const built = new WeakMap<SignalContext, Promise<DebugProtocol.StackFrame[]>>();
  let nextId = 0;
  const newId = () => SIGNAL_FRAME_ID_BASE + (nextId++ % ID_SPACE);

  const answerFrameRequests: ProxyHook = {
    name: 'signalFrameRequests',
    stage: 'answer',
    answer(request) {
      if (!FRAME_REQUESTS.has(request.command)) return undefined;
      const frameId = (request.arguments as { frameId?: number } | undefined)?.frameId;
      if (!isSignalFrameId(frameId)) return undefined;
      return request.command === 'scopes' ? successResponse(request, { scopes: [] }) : errorResponse(request, ProxyErrorId.badArguments, NOT_DLVS);
    },
  };

  const splice: ProxyHook = {
    name: 'signalStack',
    stage: 'annotate',
    rewriteResponse(response, request) {
      if (request.command !== 'stackTrace' || !response.success) return;
      const args = request.arguments as DebugProtocol.StackTraceArguments;
      const body = (response as DebugProtocol.StackTraceResponse).body;
      const start = Math.max(args.startFrame ?? 0, 0);
      // dlv's count is exact only once this page reaches its last frame; until then it has more frames of its own.
      if (body.totalFrames === undefined || body.totalFrames > start + body.stackFrames.length) return;
      return appendSignalFrames(args, body, start, body.totalFrames);
    },
  };

  async function appendSignalFrames(args: DebugProtocol.StackTraceArguments, body: DebugProtocol.StackTraceResponse['body'], start: number, dlvTotal: number): Promise<boolean> {
    const context = await session.signalContext(args.threadId);
    if (!context) return false;
    let frames = built.get(context);
    if (!frames) built.set(context, (frames = signalFrames(session, context, newId)));
    const spliced = await frames;
    if (spliced.length === 0) return false;
    // The spliced frames are numbered after dlv's last: page through them as VS Code asks.
    const from = Math.max(0, start - dlvTotal);
    const room = args.levels && args.levels > 0 ? args.levels - body.stackFrames.length : Infinity;
    const page = spliced.slice(from, from + Math.max(0, room));
    body.stackFrames.push(...page);
    body.totalFrames = dlvTotal + spliced.length;
    session.rememberFrames(page); // Explain This PC works on them
    return true;
  }

  return [answerFrameRequests, splice];
}

/** The separator, the unwound frames and, if the walk ended early, why. */
async function signalFrames(session: BluepillSession, context: SignalContext, newId: () => number): Promise<DebugProtocol.StackFrame[]> {
  const frameId = session.symbolizedFrameId(context.threadId);
  if (frameId === undefined) return [];
  const { variant, ucontext: u } = context;
  const arch = variant.arch;
  const symbols = session.localSymbols();
  const unwound = await unwindFramePointers(
    { arch, pc: u.pc, sp: u.sp, fp: u.fp, lr: u.lr },
    { words: (address, count) => readWords(session.ctx, address, count, frameId) },
    { functionStart: symbols ? (pc) => symbolize(symbols, pc)?.symbol.address : undefined },
  );
  const label = (name: string): DebugProtocol.StackFrame => ({ id: newId(), name: `── ${name} ──`, line: 0, column: 0, presentationHint: 'label' });
  const rewritten = await guestWroteContext(session, context, frameId);
  const frames = [label(rewritten ? SEPARATORS[arch].guest : SEPARATORS[arch].host)];
  for (const f of unwound.frames) frames.push(await describe(session, arch, f, newId()));
  if (!/outermost frame/.test(unwound.end)) frames.push(label(`unwinding stopped: ${unwound.end}`));
  return frames;
}

/**
 * Whether the context holds the guest's registers: in the guest-exit and sigreturn
 * phases, unless its PC is still at the trap (stopped at bluepillGuestExit's entry,
 * before it wrote them).
 */
async function guestWroteContext(session: BluepillSession, context: SignalContext, frameId: number): Promise<boolean> {
  if (context.phase !== 'guest-exit' && context.phase !== 'sigreturn') return false;
  const ins = await session.instructions.at(context.ucontext.pc, frameId);
  return !session.index(context.variant).byCode(ins?.text, ins?.bytes).some((l) => l.role === 'trap-instruction');
}

async function describe(session: BluepillSession, arch: 'arm64' | 'amd64', f: UnwoundFrame, id: number): Promise<DebugProtocol.StackFrame> {
  const symbol = session.symbolFor(f.pc)?.replace(/\+0x[0-9a-f]+$/, '');
  const source = await sourceLine(session, arch, f);
  const file = source ? clientPath(session.ctx.sessionArgs, source.file) : undefined;
  const baseName = file?.replace(/^.*\//, '');
  // A remote board has no symbols here: its file and line say more than the address.
  const name = SIGNAL_FRAME_PREFIX + (symbol ? shortName(symbol) : source ? `${baseName}:${source.line}` : `0x${f.pc.toString(16)}`);
  const frame: DebugProtocol.StackFrame = { id, name, line: 0, column: 0, instructionPointerReference: `0x${f.pc.toString(16)}`, presentationHint: 'subtle' };
  if (source && file) Object.assign(frame, { source: { name: baseName, path: file }, line: source.line, column: 1 });
  return frame;
}

/**
 * dlv's disassembly names files as the binary has them, where dlv's frames map them
 * with `substitutePath` ({ from: path here, to: path where it was built }): the same here.
 */
export function clientPath(sessionArgs: Readonly<Record<string, unknown>> | undefined, file: string): string {
  const pairs = Array.isArray(sessionArgs?.substitutePath) ? (sessionArgs.substitutePath as Array<{ from?: unknown; to?: unknown }>) : [];
  for (const { from, to } of pairs) {
    if (typeof from !== 'string' || typeof to !== 'string' || !to) continue;
    if (file === to || file.startsWith(to.endsWith('/') ? to : `${to}/`)) return from + file.slice(to.length);
  }
  return file;
}

/** The source line of a frame: a caller's is the line of its call, just before the return address. */
async function sourceLine(session: BluepillSession, arch: 'arm64' | 'amd64', f: UnwoundFrame): Promise<{ file: string; line: number } | undefined> {
  if (f.from !== 'context pc') {
    const call = await session.instructions.at(f.pc - CALL_LENGTH[arch]);
    if (call?.text && CALL_TEXT.test(call.text) && call.file && call.line) return { file: call.file, line: call.line };
  }
  const ins = await session.instructions.at(f.pc);
  return ins?.file && ins.line ? { file: ins.file, line: ins.line } : undefined;
}

/** dlv's way of naming a function: without the package's import path (gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepill → kvm.bluepill). */
function shortName(symbol: string): string {
  return symbol.replace(/^[^(]*\//, '');
}
