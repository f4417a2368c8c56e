// Splices the stack a signal interrupted into the Call Stack. dlv unwinds through a
// signal frame only for the Go runtime's own handler; below gVisor's handler its stack
// is cut or goes on at the interrupted LR, and after bluepillGuestExit nothing shows
// the guest's stack. In the handler's phases the tracker has read the ucontext; from
// its PC, SP and frame pointer this hook unwinds (bluepill/unwind.ts) with its own
// memory reads and inserts the frames where the handler's frames end (after the
// rt_sigreturn trampoline, else after kvm.sighandler, else after dlv's last frame),
// after a separator:
//   "interrupted (host, EL0)"   the context the kernel saved at the trap;
//   "guest at exit (EL1)"       once bluepillGuestExit wrote the guest's registers in.
// dlv's own frames all stay, in their order: those that follow the insertion point come
// after the spliced ones. VS Code pages the stack (the top frame, then more), so the
// proxy maps each page onto dlv's numbering: the request's range goes to dlv shifted
// (answer stage, request left to dlv), and the response is put together again.
// The frames carry ids dlv never gives (session.ts, SIGNAL_FRAME_ID_BASE): a request
// about one of them gets an answer here instead of reaching dlv.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { errorResponse, ProxyErrorId, successResponse } from '../../dap/messages';
import { readWords } from '../../bluepill/memory';
import { isUnsymbolized } from '../../bluepill/classify';
import { unwindFramePointers, type UnwoundFrame } from '../../bluepill/unwind';
import { symbolize } from '../../elf/symbols';
import { isSignalFrameId, SIGNAL_FRAME_ID_BASE, type BluepillSession, type SignalContext } from './session';
import { isTrampolineAt } from './trampolineFrames';
import { pageWith, rangeWithout } from './framePages';

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
/** dlv's page when a request gives no levels (its stackTraceDepth default). */
const DLV_DEFAULT_LEVELS = 50;

/** The spliced frames of one stop and thread, and where among dlv's they go. */
interface Splice {
  /** dlv's index before which the spliced frames go (its frames from here on follow them). */
  at: number;
  frames: DebugProtocol.StackFrame[];
}

/** A client's page, as asked, and as sent to dlv. */
interface Page {
  splice: Splice;
  start: number;
  end: number;
  dlvStart: number;
}

/** The part of the client's page [start, end) that is dlv's, in dlv's numbering (empty when all of it is spliced). */
export const dlvRange = rangeWithout;

export function signalStackHooks(session: BluepillSession): ProxyHook[] {
  const built = new WeakMap<SignalContext, Promise<Splice | undefined>>();
  const pages = new WeakMap<DebugProtocol.Request, Page>();
  let nextId = 0;
  const newId = () => SIGNAL_FRAME_ID_BASE + (nextId++ % ID_SPACE);

  const spliceFor = async (threadId: number): Promise<Splice | undefined> => {
    const context = await session.signalContext(threadId);
    if (!context) return undefined;
    let splice = built.get(context);
    if (!splice) built.set(context, (splice = buildSplice(session, context, newId)));
    return splice;
  };

  /** Answer stage: frame requests about spliced frames; stackTrace pages moved onto dlv's numbering. */
  const requests: ProxyHook = {
    name: 'signalFrameRequests',
    stage: 'answer',
    answer(request) {
      if (request.command === 'stackTrace') return planPage(request);
      if (!FRAME_REQUESTS.has(request.command)) return undefined;
      const frameId = (request.arguments as { frameId?: number } | undefined)?.frameId;
      if (!isSignalFrameId(frameId)) return undefined;
      return request.command === 'scopes' ? successResponse(request, { scopes: [] }) : errorResponse(request, ProxyErrorId.badArguments, NOT_DLVS);
    },
  };

  /** Leaves the request to dlv (undefined), with its range shifted when spliced frames come before or inside it. */
  async function planPage(request: DebugProtocol.Request): Promise<undefined> {
    const args = request.arguments as DebugProtocol.StackTraceArguments;
    const start = Math.max(args.startFrame ?? 0, 0);
    const end = start + (args.levels && args.levels > 0 ? args.levels : DLV_DEFAULT_LEVELS);
    // The top frame (VS Code's first request at a stop) is dlv's, always: no waiting for the analysis.
    if (end <= 1) return undefined;
    const splice = await spliceFor(args.threadId);
    if (!splice) return undefined;
    const range = dlvRange(start, end, splice.at, splice.frames.length);
    pages.set(request, { splice, start, end, dlvStart: range.start });
    // All of it spliced: one frame of dlv's still says how many dlv has.
    request.arguments = { ...args, startFrame: range.start, levels: Math.max(1, range.end - range.start) };
    return undefined;
  }

  const splice: ProxyHook = {
    name: 'signalStack',
    stage: 'annotate',
    rewriteResponse(response, request) {
      if (request.command !== 'stackTrace') return;
      const page = pages.get(request);
      if (!page) return;
      pages.delete(request);
      request.arguments = { ...(request.arguments as DebugProtocol.StackTraceArguments), startFrame: page.start, levels: page.end - page.start };
      if (!response.success) return;
      const body = (response as DebugProtocol.StackTraceResponse).body;
      const spliced = page.splice.frames;
      const out = pageWith(page.start, page.end, page.splice.at, spliced, body.stackFrames, page.dlvStart);
      // dlv's count (exact once a page reaches its last frame, else its guess of more) plus the spliced frames.
      body.totalFrames = (body.totalFrames ?? page.dlvStart + body.stackFrames.length) + spliced.length;
      body.stackFrames = out;
      session.rememberFrames(out.filter((f) => isSignalFrameId(f.id))); // Explain This PC works on them
      return true;
    },
  };

  return [requests, splice];
}

/** The spliced frames and where they go: after the trampoline, else after the signal handler, else at the end. */
async function buildSplice(session: BluepillSession, context: SignalContext, newId: () => number): Promise<Splice | undefined> {
  const frames = await signalFrames(session, context, newId);
  if (frames.length === 0) return undefined;
  const dlvFrames = session.frames.get(context.threadId) ?? [];
  const frameId = session.symbolizedFrameId(context.threadId);
  const index = session.index(context.variant);
  let at = dlvFrames.length;
  const handler = dlvFrames.findIndex((f) => index.bySymbolName(f.name)?.role === 'sighandler');
  if (handler >= 0) at = handler + 1;
  for (let i = 0; i < dlvFrames.length && frameId !== undefined; i++) {
    const f = dlvFrames[i];
    if (isUnsymbolized(f.name) && f.instructionPointerReference && (await isTrampolineAt(session, context.variant, BigInt(f.instructionPointerReference), frameId))) {
      at = i + 1;
      break;
    }
  }
  return { at, frames };
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
    {
      functionStart: symbols ? (pc) => symbolize(symbols, pc)?.symbol.address : undefined,
      // Here: the binary's symbols; for a remote board: whether dlv can disassemble there (cached for the frame's source line).
      isCode: symbols ? (pc) => symbolize(symbols, pc) !== undefined : async (pc) => (await session.instructions.at(pc)) !== undefined,
    },
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
  const frame: DebugProtocol.StackFrame = { id, name, line: 0, column: 0, instructionPointerReference: `0x${f.pc.toString(16)}`, presentationHint: 'normal' };
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
