// Follows the round trip at every stop: each `stopped` event is analysed (phase,
// ucontext, diagnoses: bluepill/stopAnalysis.ts decides, this module reads the
// facts from dlv), recorded in the trip log in the order the stops happened, and
// sent to the client as a `bluepill/state` event.
//
// Scheduling: analyses run one after another, from the moment the stop arrives. A
// resume (continue, step) waits until the analysis of the stop before it is done,
// for at most RESUME_WAIT_MS: frame ids and registers are only valid until the
// thread moves, so a client stepping as fast as dlv answers still has every stop
// analysed. The reads are few: one stackTrace per stop (of the top frame alone
// while a thread steps through host code), instructions from the session's cache,
// and the ucontext only in the handler's phases.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { evaluateNumber, readWords } from '../../bluepill/memory';
import { emptyState, GET_STATE_REQUEST, STATE_EVENT, type BluepillState } from '../../bluepill/state';
import { classify, diagnose, sameTrip, stopView, tripStop, ucontextView, wants, type ReadFacts, type StopFacts } from '../../bluepill/stopAnalysis';
import { TripLog } from '../../bluepill/tripLog';
import { decodeUcontext, UCONTEXT_LAYOUTS, type DecodedUcontext } from '../../bluepill/ucontext';
import { isUnsymbolized, type Classification } from '../../bluepill/classify';
import type { Phase, Variant } from '../../bluepill/model';
import { successResponse } from '../../dap/messages';
import type { BluepillSession } from './session';

const RESUMES = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame']);
/** A resume waits at most this long for the analysis of the stop before it (a slow board). */
const RESUME_WAIT_MS = 5000;
/** Frames read per stop: the handler's frames are near the top; a morestack runaway shows in 32. */
const STACK_LEVELS = 40;
const HANDLER_FUNCTIONS = /kvm\.(bluepillGuestExit|bluepillHandler|bluepillUserHandler)$/;

interface Stop {
  threadId: number;
  time: number;
  stepped: boolean;
}

export function bluepillTracker(session: BluepillSession): ProxyHook {
  const { ctx } = session;
  const log = new TripLog();
  let state: BluepillState = emptyState();
  let stopIndex = 0;
  /** The analyses, chained in stop order. */
  let analyses: Promise<void> = Promise.resolve();
  const previousPhase = new Map<number, Phase>();
  const ucontextPointer = new Map<number, bigint>();

  const publish = () => ctx.sendEvent(STATE_EVENT, state);

  /** Resolves when every stop so far is analysed, or after `ms`. */
  const analysed = (ms = RESUME_WAIT_MS) => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, ms)));
    return Promise.race([analyses, bound]).finally(() => clearTimeout(timer));
  };

  async function stack(threadId: number, levels: number): Promise<DebugProtocol.StackFrame[]> {
    const r = (await ctx.requestDlv('stackTrace', { threadId, startFrame: 0, levels })) as DebugProtocol.StackTraceResponse;
    return r.success ? r.body.stackFrames : [];
  }

  /**
   * The frames that decide this stop. A thread stepped on from host code has only host
   * frames below its top one (a step enters at most one call, and the handler's entry is
   * a landmark itself), so there the top frame is enough unless it is a landmark or has
   * no symbol. Any other stop reads the stack.
   */
  async function framesFor(stop: Stop, variant: Variant | undefined): Promise<DebugProtocol.StackFrame[]> {
    const previous = previousPhase.get(stop.threadId);
    if (!variant || !stop.stepped || (previous !== 'host' && previous !== 'resumed')) return stack(stop.threadId, STACK_LEVELS);
    const top = await stack(stop.threadId, 1);
    if (top.length === 0 || (!isUnsymbolized(top[0].name) && !session.index(variant).bySymbolName(top[0].name))) return top;
    return stack(stop.threadId, STACK_LEVELS);
  }

  async function analyse(stop: Stop): Promise<void> {
    const known = await session.variant();
    const frames = await framesFor(stop, known);
    if (frames.length === 0) return;
    session.frames.set(stop.threadId, frames);
    const frameId = session.symbolizedFrameId(stop.threadId);
    const variant = known ?? (await session.variant(frameId));
    if (!variant) return;
    const pc = BigInt(frames[0].instructionPointerReference ?? '0');
    const facts: StopFacts = {
      ...stop,
      frames: frames.map((f) => f.name),
      pc,
      instruction: await session.instructions.at(pc, frameId),
      previousPhase: previousPhase.get(stop.threadId),
    };
    const c = classify(session.index(variant), facts);
    const read = await readFacts(variant, c, facts, frames);
    previousPhase.set(stop.threadId, c.phase);

    const view = stopView(++stopIndex, variant, c, facts);
    const ucontext = read.ucontext ? ucontextView(variant, read.ucontext, read.ucontextPcSymbol) : undefined;
    log.record(tripStop(view, ucontext));
    state = {
      variant: { id: variant.id, title: variant.title, arch: variant.arch },
      running: false,
      ended: false,
      stop: view,
      ucontext,
      diagnoses: diagnose(variant, c, facts, read),
      trips: log.list(),
      tripCount: log.tripCount,
      guestExits: log.guestExitCount,
    };
    publish();
  }

  /** The reads the classification asks for: the ucontext, what trapped, the syscall number. */
  async function readFacts(variant: Variant, c: Classification, facts: StopFacts, frames: DebugProtocol.StackFrame[]): Promise<ReadFacts> {
    const want = wants(c);
    const read: ReadFacts = {};
    if (want.ucontext) {
      read.ucontext = await readUcontext(variant, facts, frames, c);
      if (read.ucontext) read.ucontextPcSymbol = session.symbolFor(read.ucontext.pc);
      if (read.ucontext && want.trappedInstruction) read.trappedInstruction = await session.instructions.at(read.ucontext.pc, session.symbolizedFrameId(facts.threadId));
    }
    if (want.syscallNumber) read.syscallNumber = await evaluateNumber(ctx, variant.syscallRegister, frames[0].id);
    return read;
  }

  /**
   * The ucontext pointer: the `context` argument of bluepillHandler/bluepillGuestExit
   * when one is on the stack, else the handler's third argument register at its entry,
   * else the one this thread used earlier in the trip (the trampoline has no frame to ask).
   * Stepping on within one trip keeps the pointer found first: in optimised code (runsc)
   * the argument's register is soon reused, and dlv then reads `context` wrong.
   */
  async function readUcontext(variant: Variant, facts: StopFacts, frames: DebugProtocol.StackFrame[], c: Classification): Promise<DecodedUcontext | undefined> {
    const { threadId } = facts;
    let pointer = sameTrip(facts) ? ucontextPointer.get(threadId) : undefined;
    for (const f of pointer ? [] : frames) {
      if (HANDLER_FUNCTIONS.test(f.name)) {
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

  async function resume(): Promise<undefined> {
    await analysed();
    session.resumed();
    log.resumed(Date.now());
    if (!state.running) {
      state = { ...state, running: true };
      publish();
    }
    return undefined;
  }

  return {
    name: 'bluepillTracker',
    stage: 'observe',
    answer(request) {
      if (request.command === GET_STATE_REQUEST) return analysed().then(() => successResponse(request, state));
      if (RESUMES.has(request.command)) return resume();
      return undefined;
    },
    rewriteEvent(event) {
      if (event.event === 'stopped') {
        const body = (event as DebugProtocol.StoppedEvent).body;
        if (body.threadId === undefined) return;
        const stop: Stop = { threadId: body.threadId, time: Date.now(), stepped: body.reason === 'step' };
        analyses = analyses.then(() => analyse(stop)).catch(() => undefined);
      } else if (event.event === 'terminated' || event.event === 'exited') {
        void analyses.then(() => {
          if (state.ended) return;
          state = { ...state, running: false, ended: true };
          publish();
        });
      }
    },
  };
}
