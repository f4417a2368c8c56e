// Follows the round trip at every stop: classifies the stopped thread's phase,
// reads the signal ucontext in the handler, keeps the trip log, raises diagnoses,
// and sends it all to the client as a `bluepill/state` event.
//
// Cost: the work waits until the client has asked for the thread's stack (whose
// frames it reuses) or 30 ms have passed, and is dropped if the client resumes
// first: stepping as fast as a client can costs no extra dlv requests.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyContext, ProxyHook } from '../../dap/hooks';
import { classifyStop, isUnsymbolized, type Classification } from '../../bluepill/classify';
import { foreignTrap, hostSyscall, morestackRunaway, type Diagnosis } from '../../bluepill/diagnoses';
import { evaluateNumber, readBytes, readWords } from '../../bluepill/memory';
import { PHASES, trampolineLabel, type Phase, type Variant } from '../../bluepill/model';
import { emptyState, GET_STATE_REQUEST, STATE_EVENT, type BluepillState, type UcontextView } from '../../bluepill/state';
import { TripLog } from '../../bluepill/tripLog';
import { decodeUcontext, UCONTEXT_LAYOUTS, type DecodedUcontext } from '../../bluepill/ucontext';
import { decodePstate } from '../../arm64/valueFields';
import { successResponse } from '../../dap/messages';
import type { BluepillSession } from './session';

const SETTLE_MS = 30;
const RESUMES = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame']);
const HANDLER_PHASES: Phase[] = ['trapped', 'in-guest', 'guest-exit', 'sigreturn'];

interface PendingStop {
  threadId: number;
  time: number;
  timer?: NodeJS.Timeout;
  started: boolean;
  /** The thread got here by a step (not a continue): still in the same trip if it was in the handler. */
  stepped: boolean;
}

export function bluepillTracker(session: BluepillSession): ProxyHook {
  const log = new TripLog();
  let state: BluepillState = emptyState();
  let pending: PendingStop | undefined;
  let stopIndex = 0;
  const previousPhase = new Map<number, Phase>();
  const ucontextPointer = new Map<number, bigint>();

  const publish = (ctx: ProxyContext) => ctx.sendEvent(STATE_EVENT, state);

  const start = (ctx: ProxyContext, stop: PendingStop, frames?: DebugProtocol.StackFrame[]) => {
    if (stop.started || pending !== stop) return;
    stop.started = true;
    clearTimeout(stop.timer);
    void analyse(ctx, stop, frames).catch(() => undefined);
  };

  async function analyse(ctx: ProxyContext, stop: PendingStop, seen?: DebugProtocol.StackFrame[]): Promise<void> {
    const frames = seen ?? (await ownFrames(ctx, stop.threadId));
    if (!frames || pending !== stop) return;
    session.frames.set(stop.threadId, frames);
    const frameId = session.symbolizedFrameId(stop.threadId);
    const variant = await session.variant(frameId);
    if (!variant || frames.length === 0 || pending !== stop) return;
    const index = session.index(variant);
    const top = frames[0];
    const pc = BigInt(top.instructionPointerReference ?? '0');
    const instruction = await instructionAt(ctx, variant, pc, frameId);
    const names = frames.map((f) => f.name);
    const c = classifyStop(index, { frames: names, instruction, previousPhase: previousPhase.get(stop.threadId) });
    if (pending !== stop) return;

    const sameTrip = stop.stepped && HANDLER_PHASES.includes(previousPhase.get(stop.threadId) ?? 'host');
    const ucontext = HANDLER_PHASES.includes(c.phase) ? await readUcontext(ctx, variant, stop.threadId, frames, c, sameTrip) : undefined;
    const diagnoses = await diagnose(ctx, variant, c, names, ucontext, frames, frameId);
    if (pending !== stop) return;

    previousPhase.set(stop.threadId, c.phase);
    const symbol = isUnsymbolized(top.name) ? (c.landmark?.role === 'trampoline' ? trampolineLabel(variant.arch) : '???') : top.name;
    const ucontextView = ucontext ? viewOf(variant, ucontext) : undefined;
    log.record({ threadId: stop.threadId, time: stop.time, phase: c.phase, pc: hex(pc), symbol, ucontextPc: ucontextView?.pc });
    state = {
      variant: { id: variant.id, title: variant.title, arch: variant.arch },
      running: false,
      ended: false,
      stop: {
        index: ++stopIndex,
        time: stop.time,
        threadId: stop.threadId,
        pc: hex(pc),
        symbol,
        instruction: instruction?.text,
        phase: c.phase,
        phaseTitle: PHASES.find((p) => p.phase === c.phase)!.title,
        mode: c.phase === 'in-guest' ? 'guest (the thread is a vCPU at EL1 / ring 0 while in KVM_RUN)' : 'host (EL0 / ring 3)',
        because: c.because,
        landmark: c.landmark ? { role: c.landmark.role, words: c.landmark.words, runsInGuest: c.landmark.runsInGuest } : undefined,
      },
      ucontext: ucontextView,
      diagnoses,
      trips: log.list(),
      tripCount: log.tripCount,
      guestExits: log.guestExitCount,
    };
    publish(ctx);
  }

  async function ownFrames(ctx: ProxyContext, threadId: number): Promise<DebugProtocol.StackFrame[] | undefined> {
    const r = (await ctx.requestDlv('stackTrace', { threadId, startFrame: 0, levels: 64 })) as DebugProtocol.StackTraceResponse;
    return r.success ? r.body.stackFrames : undefined;
  }

  /** The instruction at the PC: dlv's disassembly where it has a symbol, else raw bytes read from memory. */
  async function instructionAt(ctx: ProxyContext, variant: Variant, pc: bigint, frameId: number | undefined): Promise<{ text?: string; bytes?: string } | undefined> {
    const r = (await ctx.requestDlv('disassemble', { memoryReference: hex(pc), instructionCount: 1 })) as DebugProtocol.DisassembleResponse;
    const ins = r.success ? r.body?.instructions?.[0] : undefined;
    if (ins && ins.instruction !== 'invalid instruction') return { text: ins.instruction, bytes: ins.instructionBytes };
    if (frameId === undefined) return undefined;
    const bytes = await readBytes(ctx, pc, variant.arch === 'arm64' ? 4 : 8, frameId);
    return bytes ? { bytes: bytes.toString('hex') } : undefined;
  }

  /**
   * The ucontext pointer: the `context` argument of bluepillHandler/bluepillGuestExit
   * when one is on the stack, else the handler's third argument register at its entry,
   * else the one this thread used earlier in the trip (the trampoline has no frame to ask).
   * Stepping on within one trip keeps the pointer found first: in optimised code (runsc)
   * the argument's register is soon reused, and dlv then reads `context` wrong.
   */
  async function readUcontext(ctx: ProxyContext, variant: Variant, threadId: number, frames: DebugProtocol.StackFrame[], c: Classification, sameTrip: boolean): Promise<DecodedUcontext | undefined> {
    let pointer = sameTrip ? ucontextPointer.get(threadId) : undefined;
    for (const f of pointer ? [] : frames) {
      if (/kvm\.(bluepillGuestExit|bluepillHandler|bluepillUserHandler)$/.test(f.name)) {
        pointer = await evaluateNumber(ctx, 'context', f.id); // dlv prints unsafe.Pointer(0x...)
        if (pointer) break;
      }
    }
    if (!pointer && c.landmark?.role === 'sighandler' && frames[0]) pointer = await evaluateNumber(ctx, variant.ucontextRegister, frames[0].id);
    if (!pointer) pointer = ucontextPointer.get(threadId);
    if (!pointer) return undefined;
    ucontextPointer.set(threadId, pointer);
    const frameId = session.symbolizedFrameId(threadId);
    if (frameId === undefined) return undefined;
    const layout = UCONTEXT_LAYOUTS[variant.arch];
    const words = await readWords(ctx, pointer + BigInt(layout.offset), layout.words, frameId);
    return words ? decodeUcontext(layout, pointer, words) : undefined;
  }

  function viewOf(variant: Variant, u: DecodedUcontext): UcontextView {
    const pcSymbol = session.symbolFor(u.pc);
    return {
      address: u.address,
      pc: hex(u.pc),
      pcSymbol,
      sp: hex(u.sp),
      lr: u.lr !== undefined ? hex(u.lr) : undefined,
      flags: hex(u.flags),
      mode: u.mode,
      flagsSummary: variant.arch === 'arm64' ? decodePstate(u.flags).summary : undefined,
      host: u.host,
      faultAddress: hex(u.faultAddress),
    };
  }

  async function diagnose(
    ctx: ProxyContext,
    variant: Variant,
    c: Classification,
    names: string[],
    ucontext: DecodedUcontext | undefined,
    frames: DebugProtocol.StackFrame[],
    frameId: number | undefined,
  ): Promise<Diagnosis[]> {
    const found: Diagnosis[] = [];
    const runaway = morestackRunaway(names);
    if (runaway) found.push(runaway);
    if (c.phase === 'trapped' && ucontext && frameId !== undefined) {
      const trapped = await instructionAt(ctx, variant, ucontext.pc, frameId);
      const foreign = foreignTrap(variant, trapped?.text, trapped?.bytes, undefined);
      if (foreign) found.push(foreign);
    }
    if (c.phase === 'resumed' && c.landmark?.role === 'host-syscall' && frames[0]) {
      const number = await evaluateNumber(ctx, variant.syscallRegister, frames[0].id);
      if (number !== undefined) found.push(hostSyscall(variant, number, frames[0].name));
    }
    return found;
  }

  return {
    name: 'bluepillTracker',
    answer(request, ctx) {
      session.bind(ctx);
      if (request.command === GET_STATE_REQUEST) return successResponse(request, state);
      if (RESUMES.has(request.command)) {
        if (pending) clearTimeout(pending.timer);
        pending = undefined;
        session.resumed();
        log.resumed(Date.now());
        if (!state.running) {
          state = { ...state, running: true };
          publish(ctx);
        }
      }
      return undefined;
    },
    rewriteResponse(response, request, ctx) {
      if (request.command !== 'stackTrace' || !response.success || !pending) return;
      const args = request.arguments as DebugProtocol.StackTraceArguments;
      if (args.threadId !== pending.threadId || (args.startFrame ?? 0) !== 0) return;
      // Reuse the client's first page of frames when it is deep enough to hold the handler's
      // frames; VS Code first asks for the top frame alone, and then we fetch our own.
      const body = (response as DebugProtocol.StackTraceResponse).body;
      const deepEnough = body.stackFrames.length >= Math.min(body.totalFrames ?? Infinity, 20);
      start(ctx, pending, deepEnough ? body.stackFrames : undefined);
    },
    rewriteEvent(event, ctx) {
      session.bind(ctx);
      if (event.event === 'stopped') {
        const body = (event as DebugProtocol.StoppedEvent).body;
        if (body.threadId === undefined) return;
        const stop: PendingStop = { threadId: body.threadId, time: Date.now(), started: false, stepped: body.reason === 'step' };
        pending = stop;
        stop.timer = setTimeout(() => start(ctx, stop), SETTLE_MS);
      } else if (event.event === 'terminated' || event.event === 'exited') {
        if (pending) clearTimeout(pending.timer);
        pending = undefined;
        if (!state.ended) {
          state = { ...state, running: false, ended: true };
          publish(ctx);
        }
      }
    },
  };
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

