// The guest side of a vCPU thread, in the Call Stack. While a thread is inside
// ioctl(KVM_RUN), dlv sees only the ioctl; the guest watch (guest/watch.ts) knows where that
// thread's guest was at the last KVM event. Above dlv's frames of such a goroutine this hook
// inserts a separator naming the vCPU thread, a frame "(guest) ring0.exception+0x11f" at the
// guest's last PC (runsc's address, its source line where the DWARF has one), and a separator
// before dlv's frames.
//
// Which goroutine is a vCPU in KVM_RUN: dlv names the OS thread it found the goroutine on
// ("(Thread N)"); the kernel says whether that thread is in ioctl(fd, KVM_RUN), or is KVM's
// worker standing in for it (guest/vcpuThreads.ts); and the goroutine's frames must be in
// bluepill's signal handler (classified as the round trip's handler phases).
//
// Paging works as in signalStack.ts, one layer above it: the guest frames are the first k
// positions, so a client page [start, end) goes on shifted by k (to signalStack's hook, then
// dlv), and the response is put together again here, after signalStack has put its own
// together. The frames carry ids from GUEST_FRAME_ID_BASE, which neither dlv nor
// signalStack.ts gives; requests about them are answered here.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { errorResponse, ProxyErrorId, successResponse } from '../../dap/messages';
import { classifyStop } from '../../bluepill/classify';
import type { LastGuestPc } from '../../guest/summary';
import { kvmRunThreads, tidOfDlvThread, vcpuThreadOf, type KvmRunThread } from '../../guest/vcpuThreads';
import type { GuestLink } from '../guestWatch';
import { GUEST_FRAME_ID_BASE, isGuestFrameId, SIGNAL_FRAME_ID_BASE, type BluepillSession } from './session';
import { clientPath } from './signalStack';
import { pageWith, rangeWithout } from './framePages';

/** Marks the frame at the guest's PC, so nobody takes it for one of dlv's. */
export const GUEST_FRAME_PREFIX = '(guest) ';

const FRAME_REQUESTS = new Set(['scopes', 'evaluate', 'setExpression', 'restartFrame', 'stepInTargets', 'gotoTargets', 'completions']);
const NOT_DLVS =
  "This frame is the guest's last PC, read from the host kernel's KVM trace events, not a frame of dlv's: the guest's registers and variables cannot be read through dlv. Select a frame below the separator to inspect the host side.";
const ID_SPACE = SIGNAL_FRAME_ID_BASE - GUEST_FRAME_ID_BASE;
const DLV_DEFAULT_LEVELS = 50;
/** Frames read to decide whether a goroutine is in bluepill's handler (its frames are near the top). */
const LEVELS_TO_CLASSIFY = 8;
const HANDLER_PHASES = new Set(['trapped', 'in-guest', 'guest-exit']);

/** A client's page [start, end) minus the k guest frames on top: the part that goes on, in the numbering below them. */
export function belowGuestRange(start: number, end: number, k: number): { start: number; end: number } | undefined {
  const below = rangeWithout(start, end, 0, k);
  return below.end > below.start ? below : undefined;
}

/** The client's page put together: guest frames at [0, k), then the frames below them from `belowStart` on. */
export function assemblePage(start: number, end: number, guest: DebugProtocol.StackFrame[], below: DebugProtocol.StackFrame[], belowStart: number): DebugProtocol.StackFrame[] {
  return pageWith(start, end, 0, guest, below, belowStart);
}

interface Page {
  start: number;
  end: number;
  guest: DebugProtocol.StackFrame[];
  /** Where the page sent on starts below the guest frames; undefined when the page is all guest frames. */
  belowStart?: number;
}

export function guestFrameHooks(session: BluepillSession, link: GuestLink): { requests: ProxyHook; splice: ProxyHook } {
  let generation = -1;
  let blocks = new Map<number, Promise<DebugProtocol.StackFrame[]>>();
  let threadNames: Promise<Map<number, string>> | undefined;
  const pages = new WeakMap<DebugProtocol.Request, Page>();
  let nextId = 0;
  const newId = () => GUEST_FRAME_ID_BASE + (nextId++ % ID_SPACE);

  /** The guest frames of a goroutine at this stop (none when it is not a vCPU in KVM_RUN). */
  const blockFor = (threadId: number): Promise<DebugProtocol.StackFrame[]> => {
    if (generation !== link.generation) {
      generation = link.generation;
      blocks = new Map();
      threadNames = undefined;
    }
    let block = blocks.get(threadId);
    if (!block) blocks.set(threadId, (block = buildBlock(threadId).catch(() => [])));
    return block;
  };

  async function names(): Promise<Map<number, string>> {
    threadNames ??= session.ctx.requestDlv('threads').then((r) => new Map(((r as DebugProtocol.ThreadsResponse).body?.threads ?? []).map((t) => [t.id, t.name])));
    return threadNames;
  }

  async function buildBlock(threadId: number): Promise<DebugProtocol.StackFrame[]> {
    const { watch, pid } = link;
    if (!watch || pid === undefined) return [];
    const name = (await names()).get(threadId);
    const shownTid = tidOfDlvThread(name);
    if (shownTid === undefined) return [];
    const inKvmRun = kvmRunThreads(pid, watch.arch);
    const vcpu = vcpuThreadOf(shownTid, inKvmRun);
    const label = (text: string): DebugProtocol.StackFrame => ({ id: newId(), name: `── ${text} ──`, line: 0, column: 0, presentationHint: 'label' });
    if (!vcpu) {
      // A goroutine in bluepill's handler that dlv shows on a thread not in KVM_RUN (seen: dlv's view
      // of a thread's TLS at some pauses): which vCPU's guest it has is not known, and is said so.
      // Only goroutines dlv names with a handler function are read further (a runsc has hundreds).
      const text = unknownGuestText(shownTid, inKvmRun);
      return text && HANDLER_TOP.test(name ?? '') && (await inBluepillHandler(threadId)) !== undefined ? [label(text)] : [];
    }
    const frameId = await inBluepillHandler(threadId);
    if (frameId === undefined) return [];
    const host = () => label('host: ioctl(KVM_RUN), as dlv sees it');
    if ('why' in vcpu) return [label(`guest: unknown (${vcpu.why})`), host()];
    const shownOn = vcpu.shownOn ? `; dlv shows this goroutine on ${vcpu.shownOn.tid} (${vcpu.shownOn.comm}, KVM's worker)` : '';
    const last = watch.lastGuestPc(vcpu.vcpuTid);
    if (!last) return [label(`guest of vCPU thread ${vcpu.vcpuTid} (vCPU fd ${vcpu.vcpuFd}${shownOn}): no KVM event with a guest PC traced yet`), host()];
    const ago = last.agoUs >= 1e6 ? `${(last.agoUs / 1e6).toFixed(1)} s` : `${Math.round(last.agoUs / 1000)} ms`;
    const top = label(`guest of vCPU thread ${vcpu.vcpuTid} (vCPU fd ${vcpu.vcpuFd}${shownOn}): last PC, ${last.event} ${ago} ago`);
    return [top, await guestFrame(last, newId(), frameId), label('host: ioctl(KVM_RUN), as dlv sees it')];
  }

  /** Whether the goroutine's frames are bluepill's signal handler (not some other ioctl of a KVM user): then one of its frames with a symbol. */
  async function inBluepillHandler(threadId: number): Promise<number | undefined> {
    const r = (await session.ctx.requestDlv('stackTrace', { threadId, startFrame: 0, levels: LEVELS_TO_CLASSIFY })) as DebugProtocol.StackTraceResponse;
    const frames = r.success ? r.body.stackFrames : [];
    const frameId = frames.find((f) => f.instructionPointerReference && !/^\?+$/.test(f.name))?.id;
    const variant = await session.variant(frameId);
    if (!variant || frameId === undefined) return undefined;
    return HANDLER_PHASES.has(classifyStop(session.index(variant), { frames: frames.map((f) => f.name) }).phase) ? frameId : undefined;
  }

  /** The frame at the guest's PC: runsc's address, so its line is the one dlv gives for that address (Go's line table covers runsc's assembly too). */
  async function guestFrame(last: LastGuestPc, id: number, frameId: number): Promise<DebugProtocol.StackFrame> {
    const frame: DebugProtocol.StackFrame = { id, name: GUEST_FRAME_PREFIX + shortName(last.symbol), line: 0, column: 0, instructionPointerReference: last.address, presentationHint: 'normal' };
    const ins = await session.instructions.at(BigInt(last.address), frameId);
    const m = last.source ? /^(.*):(\d+)$/.exec(last.source) : null;
    const source = ins?.file && ins.line ? { file: ins.file, line: ins.line } : m ? { file: m[1], line: Number(m[2]) } : undefined;
    if (source) {
      const file = clientPath(session.ctx.sessionArgs, source.file);
      Object.assign(frame, { source: { name: file.replace(/^.*\//, ''), path: file }, line: source.line, column: 1 });
    }
    return frame;
  }

  const requests: ProxyHook = {
    name: 'guestFrameRequests',
    stage: 'answer',
    answer(request) {
      if (request.command === 'stackTrace') return link.watch ? planPage(request) : undefined;
      if (!FRAME_REQUESTS.has(request.command)) return undefined;
      const frameId = (request.arguments as { frameId?: number } | undefined)?.frameId;
      if (!isGuestFrameId(frameId)) return undefined;
      return request.command === 'scopes' ? successResponse(request, { scopes: [] }) : errorResponse(request, ProxyErrorId.badArguments, NOT_DLVS);
    },
  };

  /** Leaves the request to the hooks after it and dlv, shifted below the guest frames. */
  async function planPage(request: DebugProtocol.Request): Promise<undefined> {
    const args = request.arguments as DebugProtocol.StackTraceArguments;
    const guest = await blockFor(args.threadId);
    if (guest.length === 0) return undefined;
    const start = Math.max(args.startFrame ?? 0, 0);
    const end = start + (args.levels && args.levels > 0 ? args.levels : DLV_DEFAULT_LEVELS);
    const below = belowGuestRange(start, end, guest.length);
    pages.set(request, { start, end, guest, belowStart: below?.start });
    // All of it guest frames: one frame from below still says how many there are.
    request.arguments = { ...args, startFrame: below?.start ?? 0, levels: below ? below.end - below.start : 1 };
    return undefined;
  }

  const splice: ProxyHook = {
    name: 'guestFrames',
    stage: 'annotate',
    rewriteResponse(response, request) {
      if (request.command !== 'stackTrace') return;
      const page = pages.get(request);
      if (!page) return;
      pages.delete(request);
      const sent = request.arguments as DebugProtocol.StackTraceArguments;
      request.arguments = { ...sent, startFrame: page.start, levels: page.end - page.start };
      if (!response.success) return;
      const body = (response as DebugProtocol.StackTraceResponse).body;
      const belowTotal = body.totalFrames ?? (sent.startFrame ?? 0) + body.stackFrames.length;
      body.stackFrames = assemblePage(page.start, page.end, page.guest, page.belowStart === undefined ? [] : body.stackFrames, page.belowStart ?? 0);
      body.totalFrames = belowTotal + page.guest.length;
      session.rememberFrames(body.stackFrames.filter((f) => isGuestFrameId(f.id))); // Explain This PC works on them
      return true;
    },
  };

  return { requests, splice };
}

/** dlv's goroutine names ("[Go 1] kvm.bluepillUserHandler (Thread N)") whose top function is bluepill's handler or its KVM_RUN call. */
const HANDLER_TOP = /\] (\S*kvm\.bluepill\w*|\S*hostsyscall\.RawSyscall\w*) \(Thread \d+\)\s*$/;

/**
 * The separator's words for a handler goroutine that dlv shows on thread `shownTid`, which the
 * kernel does not show in KVM_RUN, while vCPU threads are: undefined when no vCPU thread is in KVM_RUN.
 */
export function unknownGuestText(shownTid: number, inKvmRun: KvmRunThread[]): string | undefined {
  const vcpus = inKvmRun.filter((t) => !t.worker).map((t) => t.tid);
  if (vcpus.length === 0 || vcpus.includes(shownTid)) return undefined;
  return `guest: unknown (dlv shows this goroutine on thread ${shownTid}, which the kernel does not show in ioctl(KVM_RUN); in KVM_RUN: thread${vcpus.length > 1 ? 's' : ''} ${vcpus.join(', ')})`;
}

/** dlv's way of naming a function: without the package's import path. */
function shortName(symbol: string): string {
  return symbol.replace(/^[^(]*\//, '');
}
