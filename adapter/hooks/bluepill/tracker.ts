// Follows the round trip at every stop: each `stopped` event is analysed (phase,
// ucontext, diagnoses: bluepill/stopAnalysis.ts decides, this module reads the
// facts from dlv), recorded in the trip log in the order the stops happened, and
// sent to the client as a `bluepill/state` event.
//
// Scheduling: analyses run one after another, from the moment the stop's event has been
// written. A resume (continue, step) waits (resumeGate.ts) for a step still in flight
// to stop, then until the analysis of the stop before it has sent its last read to dlv,
// so a client stepping as fast as dlv answers still has every stop analysed. Mostly
// that means waiting for the analysis to finish; in host code where every place the
// last instruction can go is known (straight-line code, direct jumps and calls) it is
// sure to need one read only, and the resume follows that read at once. The reads are
// few: one stackTrace per stop (of the top frame alone while a thread steps through
// host code), instructions from the session's cache, and the ucontext only in the
// handler's phases (kept in the session for the other hooks).
// When dlv runs the debuggee on this machine, a thread stepped by one instruction through
// host code it has stepped before needs no read at all: its PC comes from the kernel
// (localThreads.ts), checked against where one instruction can take it, and its
// function's name from what dlv called that PC before, or else from the binary's own
// line table where no inlining makes dlv's name differ (elf/goLineTable.ts).
//
// Events: one state per stop; a resume's running state only when no stop follows soon;
// the trips only when they changed.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { evaluateNumber, evaluateText, readWords } from '../../bluepill/memory';
import { emptyState, GET_STATE_REQUEST, STATE_EVENT, type BluepillState, type BluepillStateEvent } from '../../bluepill/state';
import { classify, diagnose, GO_SIGNAL_CONTEXT, needsTrampolineCheck, sameTrip, stopView, tripStop, ucontextView, wants, type ReadFacts, type StopFacts } from '../../bluepill/stopAnalysis';
import { TripLog } from '../../bluepill/tripLog';
import { decodeUcontext, UCONTEXT_LAYOUTS, type DecodedUcontext } from '../../bluepill/ucontext';
import { dieRegisters } from '../../bluepill/dieMarkers';
import { isUnsymbolized, type Classification } from '../../bluepill/classify';
import type { Phase, Variant } from '../../bluepill/model';
import { outputEvent, successResponse } from '../../dap/messages';
import type { Instruction } from './instructions';
import type { BluepillSession } from './session';
import { isTrampolineAt } from './trampolineFrames';
import { LocalThreads } from './localThreads';
import { agrees, nextPcs, type NextPcs } from '../../bluepill/nextPc';
import { bounded, ResumeGate } from './resumeGate';

/** A stop whose event names no thread (dlv's `pause`): its thread is found when it is analysed. */
const UNNAMED = Number.MIN_SAFE_INTEGER;
const RESUMES = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame', 'restart']);
/** Resumes that stop again soon: a resume sent behind one waits for its stop (see resume()). */
const STEPS = new Set(['next', 'stepIn', 'stepOut', 'stepBack']);
/** A resume's running state waits this long for a stop that would make it moot. */
const RUNNING_STATE_DELAY_MS = 30;
/** Frames read per stop: the handler's frames are near the top; a morestack runaway shows in 32. */
const STACK_LEVELS = 40;
/** The handler functions and the name of their ucontext argument (bluepill_unsafe.go, bluepill_amd64_unsafe.go). */
const HANDLER_ARGUMENTS: ReadonlyArray<[RegExp, string]> = [
  [/kvm\.(bluepillGuestExit|bluepillHandler)$/, 'context'],
  [/kvm\.bluepillUserHandler$/, 'frame'],
];

interface Stop {
  /** Numbered when the stop arrives, so a stop that could not be analysed leaves a visible gap. */
  index: number;
  threadId: number;
  time: number;
  stepped: boolean;
  /** Resumes seen before this stop: a later one means the thread has moved on. */
  resumesBefore: number;
  /** Sure to need one read only (see pipelined(), decided when its analysis starts): the next resume may follow it to dlv at once. */
  pipelined?: boolean;
  /** The stop named no thread: the proxy chose one (see threadOfUnnamedStop). */
  chosen?: boolean;
  /** dlv's reason says the goroutine it names ran on a thread up to this stop (a step or a breakpoint). */
  onThread: boolean;
}

/** Stop reasons (dlv 1.27.2, service/dap/server.go) whose goroutine is the one the stopped thread runs. */
const ON_THREAD_REASONS = new Set(['step', 'breakpoint', 'function breakpoint', 'instruction breakpoint']);

/** The top of a thread at a stop, read from the kernel: no dlv frame id is valid for it. */
const KERNEL_FRAME_ID = -1;
/** PCs whose function name dlv gave, kept at most (a long session stepping through much code starts again). */
const MAX_NAMED_PCS = 100_000;

/** Whether a stop's classification asks for any read beyond its top frame. */
function wantsReads(want: ReturnType<typeof wants>): boolean {
  return Object.values(want).some((v) => v !== undefined && v !== false);
}

/** Instructions after which the next PC is not simply the next instruction (Go syntax, amd64 and arm64). */
const MAY_TRANSFER = /^(J|B|CALL|RET|SVC|HVC|SMC|SYSCALL|SYSENTER|INT|UD|HLT|ERET|CB|TB|LOOP|WORD|BYTE)/;

export function bluepillTracker(session: BluepillSession): ProxyHook {
  const { ctx } = session;
  const log = new TripLog();
  let state: BluepillState = emptyState();
  let stopIndex = 0;
  /** The analyses, chained in stop order. */
  let analyses: Promise<void> = Promise.resolve();
  /** When a resume may go to dlv (resumeGate.ts). */
  const gate = new ResumeGate();
  let resumes = 0;
  /**
   * A resume made the state running. It is published only if no stop follows within
   * RUNNING_STATE_DELAY_MS: a client stepping fast gets one state per stop instead of two
   * (a view that refreshes on each no longer flickers "running" at every step).
   */
  let runningUnsent = false;
  const runningTimer = setTimeout(() => {
    if (!runningUnsent) return;
    runningUnsent = false;
    publish();
  }, RUNNING_STATE_DELAY_MS);
  runningTimer.unref();
  let known: Variant | undefined;
  const previousPhase = new Map<number, Phase>();
  /**
   * Per thread, the top frame and instruction of its last stop; `sp` where the kernel showed
   * the thread there (before any resume), with the number of resumes before that stop.
   */
  const lastTop = new Map<number, { name: string; pc: bigint; instruction?: Instruction; sp?: bigint; resumesBefore: number }>();
  const threads = new LocalThreads(() => ctx.localProcesses?.() ?? []);
  /** The name dlv gave the top frame at a PC (the innermost inlined function there): a function of the PC alone. */
  const nameAt = new Map<bigint, string>();
  /** Resume number → the thread it stepped by one instruction (stepIn, granularity instruction); recent ones only. */
  const instructionSteps = new Map<number, number>();
  const ucontextPointer = new Map<number, bigint>();

  /** The trip log's version last sent: an event carries the trips only when they changed since. */
  let tripsSent = -1;
  const publish = () => {
    if (log.version === tripsSent) {
      const { trips: _unchanged, ...rest } = state;
      ctx.sendEvent(STATE_EVENT, rest satisfies BluepillStateEvent);
    } else {
      tripsSent = log.version;
      ctx.sendEvent(STATE_EVENT, state);
    }
  };

  /** Where one run of an instruction can take a thread, worked out once per instruction (it is asked at every step). */
  const nextOf = new WeakMap<Instruction, NextPcs | undefined>();
  const nextAfter = (arch: Variant['arch'], pc: bigint, ins: Instruction & { bytes: string }): NextPcs | undefined => {
    if (!nextOf.has(ins)) nextOf.set(ins, nextPcs(arch, pc, ins.bytes, MAY_TRANSFER.test(ins.text ?? 'BYTE')));
    return nextOf.get(ins);
  };

  /**
   * A thread stepping through host code where every place one instruction can take it is
   * known: the next instruction (straight-line code), or also the target of a direct
   * branch or call whose function dlv named before; each already in the cache, none a
   * landmark. Its analysis then needs the top frame only (to confirm the PC), and dlv
   * answers that read before it runs the next resume, so the resume need not wait for
   * the answer. Should the thread be elsewhere after all (a signal), the stop is still
   * recorded, from its top frame.
   */
  function pipelined(threadId: number, stepped: boolean): boolean {
    const previous = previousPhase.get(threadId);
    const last = lastTop.get(threadId);
    const ins = last?.instruction;
    if (!known || !stepped || (previous !== 'host' && previous !== 'resumed') || !last || !ins?.text || !ins.bytes) return false;
    const index = session.index(known);
    if (isUnsymbolized(last.name) || index.bySymbolName(last.name) || index.byCode(ins.text, ins.bytes).length) return false;
    const transfers = MAY_TRANSFER.test(ins.text);
    const next = nextAfter(known.arch, last.pc, ins as Instruction & { bytes: string });
    // A return or an indirect jump may go anywhere.
    if (!next || next.pcs.length === 0) return false;
    return next.pcs.every((pc) => {
      const at = session.instructions.peek(pc);
      if (!at || index.byCode(at.text, at.bytes).length) return false;
      if (!transfers || pc === last.pc + BigInt(ins.bytes!.length / 2)) return true; // on in the same function
      const name = nameOf(pc);
      return name !== undefined && !isUnsymbolized(name) && !index.bySymbolName(name);
    });
  }

  /**
   * The top frame of a thread stepped by one instruction through host code, from the
   * kernel: only where the task last seen running this goroutine now shows a PC and SP
   * that one run of the instruction it was at can give, dlv named that PC before, its
   * instruction is known, and it is no landmark. Anything else: undefined (ask dlv).
   */
  function kernelTop(stop: Stop, variant: Variant | undefined): { frame: DebugProtocol.StackFrame; sp: bigint } | undefined {
    const previous = previousPhase.get(stop.threadId);
    const last = lastTop.get(stop.threadId);
    if (!variant || !stop.stepped || (previous !== 'host' && previous !== 'resumed') || last?.sp === undefined) return undefined;
    // Exactly one resume since the thread was seen, and it stepped this thread by one instruction.
    if (stop.resumesBefore !== last.resumesBefore + 1 || instructionSteps.get(stop.resumesBefore) !== stop.threadId) return undefined;
    const ins = last.instruction;
    const next = ins?.bytes ? nextAfter(variant.arch, last.pc, ins as Instruction & { bytes: string }) : undefined;
    const now = next && threads.read(stop.threadId);
    if (!now || !agrees(next, last.sp, now.pc, now.sp)) return undefined;
    const name = nameOf(now.pc);
    if (!name || isUnsymbolized(name) || session.index(variant).bySymbolName(name) || !session.instructions.peek(now.pc)) return undefined;
    return { frame: { id: KERNEL_FRAME_ID, name, line: 0, column: 0, instructionPointerReference: `0x${now.pc.toString(16)}` }, sp: now.sp };
  }

  /** The top `levels` frames; throws, with dlv's words, when dlv cannot give them. */
  async function stack(threadId: number, levels: number): Promise<DebugProtocol.StackFrame[]> {
    const r = (await ctx.requestDlv('stackTrace', { threadId, startFrame: 0, levels })) as DebugProtocol.StackTraceResponse;
    if (!r.success) throw new Error(`dlv gave no stack for thread ${threadId} (${r.message ?? 'no reason given'})`);
    if (r.body.stackFrames.length === 0) throw new Error(`dlv gave an empty stack for thread ${threadId}`);
    return r.body.stackFrames;
  }

  /**
   * The frames that decide this stop. A thread stepped on from host code has only host
   * frames below its top one (a step enters at most one call, and the handler's entry is
   * a landmark itself), so there the top frame is enough unless it is a landmark or has
   * no symbol. Any other stop reads the stack.
   */
  async function framesFor(stop: Stop, variant: Variant | undefined, sent: () => void): Promise<DebugProtocol.StackFrame[]> {
    if (stop.pipelined) {
      const top = stack(stop.threadId, 1);
      sent();
      return top;
    }
    const previous = previousPhase.get(stop.threadId);
    if (!variant || !stop.stepped || (previous !== 'host' && previous !== 'resumed')) return stack(stop.threadId, STACK_LEVELS);
    const top = await stack(stop.threadId, 1);
    if (top.length === 0 || (!isUnsymbolized(top[0].name) && !session.index(variant).bySymbolName(top[0].name))) return top;
    return stack(stop.threadId, STACK_LEVELS);
  }

  /**
   * The thread a stop that names none is about (dlv's `pause` names none): the first thread
   * in the bluepill's code (its name says its function), else the first, as VS Code shows it.
   */
  async function threadOfUnnamedStop(): Promise<number> {
    const r = (await ctx.requestDlv('threads')) as DebugProtocol.ThreadsResponse;
    const threads = r.success ? r.body.threads : [];
    const chosen = threads.find((t) => /\bkvm\.|\bring0\./.test(t.name)) ?? threads[0];
    if (!chosen) throw new Error(`the stop named no thread, and dlv listed none (${r.message ?? 'no threads'})`);
    return chosen.id;
  }

  async function analyse(stop: Stop, sent: () => void, fromKernel = true): Promise<void> {
    if (stop.threadId === UNNAMED) {
      stop.threadId = await threadOfUnnamedStop();
      stop.chosen = true;
    }
    known ??= await session.variant();
    const kernel = fromKernel ? kernelTop(stop, known) : undefined;
    // Decided here, when the analysis of the stop before it is complete.
    stop.pipelined = !kernel && pipelined(stop.threadId, stop.stepped);
    const frames = kernel ? [kernel.frame] : await framesFor(stop, known, sent);
    if (!kernel) session.frames.set(stop.threadId, frames);
    const frameId = session.symbolizedFrameId(stop.threadId);
    const variant = known ?? (known = await session.variant(frameId));
    if (!variant) return;
    const pc = BigInt(frames[0].instructionPointerReference ?? '0');
    // Where the kernel shows this thread now, while it is sure not to have moved (learnt from dlv's PC).
    let sp = kernel?.sp;
    if (!kernel && pc !== 0n) {
      if (!isUnsymbolized(frames[0].name)) rememberName(pc, frames[0].name);
      // Only the goroutine that stepped or hit a breakpoint runs on a thread for sure (after a pause, or one chosen
      // for a stop that named none, it may be parked: its PC then is where it will resume, not a thread's).
      if (!stop.pipelined && !stop.chosen && stop.onThread && resumes === stop.resumesBefore && threads.local) sp = threads.learn(stop.threadId, pc)?.sp;
    }
    // Once the thread has moved on, only what is already known may be used.
    // A known instruction without a wait: a stop that needs no read is analysed and published in the
    // turn its event arrived in (once the event is written, on stdio), with no request to dlv.
    const instruction = session.instructions.peek(pc) ?? (stop.pipelined ? undefined : await session.instructions.at(pc, frameId));
    const facts = stopFacts(stop.threadId, stop.time, stop.stepped, frames, pc, instruction);
    // The instruction before or after, only where the code has no symbol and could be the trampoline.
    if (!stop.pipelined && needsTrampolineCheck(session.index(variant), frames[0].name, instruction)) facts.trampoline = await isTrampolineAt(session, variant, pc, frameId);
    const c = classify(session.index(variant), facts);
    // A stop that needs more than its top frame (a die marker, a system call's number) reads dlv's frames after all.
    const wanted = wantsReads(wants(c, variant, facts));
    if (kernel && wanted) return analyse(stop, sent, false);
    const read = stop.pipelined || !wanted ? {} : await readFacts(variant, c, facts, frames);
    // Every read of this stop is made: a resume waiting for them may go now, while the rest is worked out.
    sent();
    previousPhase.set(stop.threadId, c.phase);
    session.analysedThreads.add(stop.threadId);
    // For the hook that unwinds the interrupted stack (signalStack.ts): read once, here.
    if (read.ucontext) session.signalContexts.set(stop.threadId, { threadId: stop.threadId, phase: c.phase, variant, ucontext: read.ucontext });
    lastTop.set(stop.threadId, { name: frames[0].name, pc, instruction, sp, resumesBefore: stop.resumesBefore });

    const view = stopView(stop.index, variant, c, facts, read);
    view.pcFrom = kernel ? 'kernel' : 'dlv';
    const ucontext = read.ucontext ? ucontextView(variant, read.ucontext, read.ucontextPcSymbol) : undefined;
    log.record(tripStop(view, ucontext), { stepped: stop.stepped });
    state = {
      variant: { id: variant.id, title: variant.title, arch: variant.arch },
      running: resumes > stop.resumesBefore,
      ended: false,
      stop: view,
      ucontext,
      diagnoses: diagnose(variant, c, facts, read),
      trips: log.list(),
      tripCount: log.tripCount,
      guestExits: log.guestExitCount,
    };
    // This stop's state says whether the thread runs again: it replaces a running state not yet sent.
    runningUnsent = false;
    publish();
  }

  /** The reads the classification asks for: the ucontext, what trapped, the syscall number. */
  async function readFacts(variant: Variant, c: Classification, facts: StopFacts, frames: DebugProtocol.StackFrame[]): Promise<ReadFacts> {
    const want = wants(c, variant, facts);
    const read: ReadFacts = {};
    // First, while dlv's frames of this stop are fresh: the registers of the system call bluepillHandler made.
    if (want.kvmRun) {
      const registers = want.kvmRun;
      const inFrame = (id: number) => Promise.all(registers.map((r) => evaluateNumber(ctx, r, id)));
      let [result, request] = await inFrame(frames[0].id);
      // dlv's stack of a goroutine running on a signal stack (runsc's vCPU threads) sometimes comes back
      // with a top frame at PC 0 in which nothing evaluates; asked again, it gives the real one.
      for (let retry = 0; retry < 2 && (result === undefined || request === undefined); retry++) {
        const again = (await stack(facts.threadId, 1).catch(() => undefined))?.[0];
        if (again && again.instructionPointerReference === frames[0].instructionPointerReference) [result, request] = await inFrame(again.id);
      }
      read.kvmRun = { result, request };
    }
    if (want.ucontext) {
      read.ucontext = await readUcontext(variant, facts, frames, c);
      if (read.ucontext) read.ucontextPcSymbol = session.symbolFor(read.ucontext.pc);
      if (read.ucontext && want.trappedInstruction) read.trappedInstruction = await session.instructions.at(read.ucontext.pc, session.symbolizedFrameId(facts.threadId));
    }
    if (want.syscallNumber) read.syscallNumber = await evaluateNumber(ctx, variant.syscallRegister, frames[0].id);
    // The die path (rare: only at its marker PC or its functions): its registers, or dieHandler's message.
    if (want.dieRegisters) {
      // The top frame's own registers (a deeper frame's would be the caller's, not the marker's).
      const values = await Promise.all(want.dieRegisters.map((r) => evaluateNumber(ctx, r, frames[0].id)));
      if (values.every((v) => v !== undefined)) read.dieRegisters = values as bigint[];
      read.symbolFor = (a) => session.symbolFor(a);
    }
    // The host faulted at the die marker and the Go runtime's handler took it: R9–R14 from its ucontext.
    for (const index of want.dieUcontextFrames ?? []) {
      const handler = frames[index];
      const pointer = await evaluateNumber(ctx, GO_SIGNAL_CONTEXT[handler.name], handler.id);
      const layout = UCONTEXT_LAYOUTS[variant.arch];
      const words = pointer ? await readWords(ctx, pointer + BigInt(layout.offset), layout.words, handler.id) : undefined;
      const u = words && pointer ? decodeUcontext(layout, pointer, words) : undefined;
      const values = u ? dieRegisters(variant.arch, 'marker').map((r) => u.registers[r]) : [];
      if (values.length && values.every((v) => v !== undefined)) {
        read.dieRegisters = values;
        read.dieMarkerPc = BigInt(frames[want.dieMarkerFrame!].instructionPointerReference ?? '0');
        read.symbolFor = (a) => session.symbolFor(a);
        break;
      }
    }
    if (want.dieMessage) read.dieMessage = await evaluateText(ctx, 'c.dieState.message', frames[0].id);
    return read;
  }

  /**
   * The ucontext pointer: the `context` argument of bluepillHandler/bluepillGuestExit
   * (`frame` of bluepillUserHandler) when one is on the stack, else the handler's third argument register at its entry,
   * else the one this thread used earlier in the trip (the trampoline has no frame to ask).
   * Stepping on within one trip keeps the pointer found first: in optimised code (runsc)
   * the argument's register is soon reused, and dlv then reads `context` wrong.
   */
  async function readUcontext(variant: Variant, facts: StopFacts, frames: DebugProtocol.StackFrame[], c: Classification): Promise<DecodedUcontext | undefined> {
    const { threadId } = facts;
    let pointer = sameTrip(facts) ? ucontextPointer.get(threadId) : undefined;
    for (const f of pointer ? [] : frames) {
      const argument = HANDLER_ARGUMENTS.find(([name]) => name.test(f.name))?.[1];
      if (argument) {
        pointer = await evaluateNumber(ctx, argument, f.id); // dlv prints unsafe.Pointer(0x...), or the uintptr
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

  /** What the classification reads of a thread standing at `pc` with these frames. */
  function stopFacts(threadId: number, time: number, stepped: boolean, frames: DebugProtocol.StackFrame[], pc: bigint, instruction: Instruction | undefined): StopFacts {
    const framePcs = frames.map((f) => BigInt(f.instructionPointerReference ?? '0'));
    return { threadId, time, stepped, frames: frames.map((f) => f.name), framePcs, pc, instruction, previousPhase: previousPhase.get(threadId) };
  }

  /** The name dlv gave the top frame at `pc` before, else the binary's line table's where that is sure (session.goFunctionName). */
  function nameOf(pc: bigint): string | undefined {
    const known = nameAt.get(pc);
    if (known !== undefined) return known;
    const fromTable = session.goFunctionName(pc);
    if (fromTable !== undefined) rememberName(pc, fromTable);
    return fromTable;
  }

  function rememberName(pc: bigint, name: string): void {
    if (nameAt.size >= MAX_NAMED_PCS) nameAt.clear();
    nameAt.set(pc, name);
  }

  /** Never silent: the Debug Console says which stop has no state, and why. */
  function unanalysed(stop: Stop, e: Error): void {
    const moved = resumes > stop.resumesBefore ? ' The thread was resumed before the proxy could read it (a resume sent at once, or dlv slow to answer the reads of the stops before it).' : '';
    ctx.sendEvent('output', outputEvent('console', `bluepill-lens: stop ${stop.index} (thread ${stop.threadId}) was not analysed: ${e.message}.${moved}\n`).body);
  }

  /**
   * A thread other than the one that stopped, asked about at this stop (its Call Stack): classified
   * from its own frames, and its ucontext read where it is in the handler, as for a stop of its own;
   * recorded nowhere else (it did not stop: no trip, no state).
   */
  session.otherThreadContext = async (threadId) => {
    const variant = known;
    if (!variant) return undefined;
    const frames = await stack(threadId, STACK_LEVELS);
    session.frames.set(threadId, frames);
    const pc = BigInt(frames[0].instructionPointerReference ?? '0');
    const frameId = session.symbolizedFrameId(threadId);
    const instruction = session.instructions.peek(pc) ?? (await session.instructions.at(pc, frameId));
    const facts = stopFacts(threadId, Date.now(), false, frames, pc, instruction);
    const c = classify(session.index(variant), facts);
    if (!wants(c, variant, facts).ucontext) return undefined;
    const ucontext = await readUcontext(variant, facts, frames, c);
    if (!ucontext) return undefined;
    const context = { threadId, phase: c.phase, variant, ucontext };
    session.signalContexts.set(threadId, context);
    return context;
  };

  /** Links of the analyses chain not yet run: none means there is nothing to wait for (no timer per request). */
  let unsettled = 0;
  const settled = () => (unsettled === 0 ? Promise.resolve() : bounded(analyses));
  session.analysed = settled;

  /** The last resume sent, and how many stops had come before it: if dlv refuses it, the thread did not move. */
  let lastResume: { request: DebugProtocol.Request; stopsBefore: number } | undefined;

  /** Goes in this turn when nothing is pending (resumeGate.ts), else once the gate opens. */
  function resume(request: DebugProtocol.Request): undefined | Promise<undefined> {
    const waiting = gate.wait();
    return waiting ? waiting.then(() => resumed(request)) : resumed(request);
  }

  function resumed(request: DebugProtocol.Request): undefined {
    resumes++;
    lastResume = { request, stopsBefore: stopIndex };
    if (STEPS.has(request.command)) gate.stepSent(request);
    const args = request.arguments as DebugProtocol.StepInArguments | undefined;
    if (request.command === 'stepIn' && args?.granularity === 'instruction' && typeof args.threadId === 'number') instructionSteps.set(resumes, args.threadId);
    instructionSteps.delete(resumes - 8);
    const time = Date.now();
    // In stop order: after the analysis of the stop this resume leaves.
    unsettled++;
    analyses = analyses.then(() => {
      unsettled--;
      session.resumed();
      log.resumed(time);
    });
    if (!state.running) {
      state = { ...state, running: true };
      runningUnsent = true;
      runningTimer.refresh();
    }
    return undefined;
  }

  return {
    name: 'bluepillTracker',
    stage: 'observe',
    answer(request) {
      if (request.command === GET_STATE_REQUEST) return settled().then(() => successResponse(request, state));
      if (RESUMES.has(request.command)) return resume(request);
      return undefined;
    },
    rewriteResponse(response, request) {
      if (!RESUMES.has(request.command) || response.success) return;
      // dlv refused the resume (a thread that is not stopped, a command it lacks): the thread did not move.
      gate.noStopComing(request);
      if (lastResume?.request === request && lastResume.stopsBefore === stopIndex && state.running) {
        state = { ...state, running: false };
        runningUnsent = false;
        publish();
      }
    },
    rewriteEvent(event) {
      if (event.event === 'stopped') {
        const body = (event as DebugProtocol.StoppedEvent).body;
        const stepped = body.reason === 'step';
        const stop: Stop = { index: ++stopIndex, threadId: body.threadId ?? UNNAMED, time: Date.now(), stepped, resumesBefore: resumes, onThread: ON_THREAD_REASONS.has(body.reason) };
        const sent = gate.stopped();
        unsettled++;
        analyses = analyses
          // The stop's event leaves first, in a write of its own: a client on stdio that steps again at
          // once is not held up by the analysis (its resume still waits for the analysis's reads).
          .then(() => ctx.clientWritten?.())
          .then(() => analyse(stop, sent))
          .catch((e: Error) => unanalysed(stop, e))
          .finally(() => {
            unsettled--;
            sent();
          });
      } else if (event.event === 'terminated' || event.event === 'exited') {
        gate.noStopComing();
        void analyses.then(() => {
          threads.forgetAll();
          if (state.ended) return;
          runningUnsent = false;
          state = { ...state, running: false, ended: true };
          publish();
        });
      }
    },
  };
}
