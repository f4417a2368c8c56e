// One stop of a thread, analysed: from the facts read at the stop (frames, the
// instruction at the PC, the ucontext where the phase has one) to what the user is
// shown (classification, the ucontext view, diagnoses) and what the trip log keeps.
// Pure: the tracker reads the facts, this decides what they mean.
import { decodePstate } from '../arm64/valueFields';
import { classifyStop, isUnsymbolized, TRAMPOLINE_CANDIDATE_ROLES, type Classification } from './classify';
import { runsInGuestMode } from './guestCode';
import { foreignTrap, guestCodeOnHost, hostSyscall, morestackRunaway, type Diagnosis } from './diagnoses';
import { PHASES, trampolineLabel, type Phase, type Variant } from './model';
import type { StopView, UcontextView } from './state';
import type { LandmarkIndex } from './symbols';
import type { TripStop } from './tripLog';
import { describeSignalMask, type DecodedUcontext } from './ucontext';
import { kickedOut, kickedOutOfKvmRun, kvmRunRegisters, KICKED_OUT_MODE, UNREAD_SYSCALL_MODE } from './bounce';
import { decodeDieMarker, decodeDieTrampoline, dieMarker, dieRegisters } from './dieMarkers';

/** Phases in which the thread runs the signal handler, so a ucontext exists. */
const HANDLER_PHASES: readonly Phase[] = ['trapped', 'in-guest', 'guest-exit', 'sigreturn'];

export interface StopFacts {
  threadId: number;
  time: number;
  /** Reached by a step, not a continue. */
  stepped: boolean;
  /** Function names, top frame first. */
  frames: string[];
  /** The frames' PCs, where read (the die marker below the Go runtime's handler). */
  framePcs?: bigint[];
  pc: bigint;
  instruction?: { text?: string; bytes?: string };
  previousPhase?: Phase;
  /** The code at the PC, read around it, is the whole rt_sigreturn trampoline (only asked where it could be). */
  trampoline?: boolean;
}

export function classify(index: LandmarkIndex, f: StopFacts): Classification {
  return classifyStop(index, { frames: f.frames, instruction: f.instruction, previousPhase: f.previousPhase, stepped: f.stepped, trampoline: f.trampoline });
}

/**
 * Whether the tracker must read around the PC to tell the trampoline from another system
 * call: only a stop without a symbol at one of the trampoline's instructions (or any SVC/SYSCALL).
 */
export function needsTrampolineCheck(index: LandmarkIndex, top: string | undefined, instruction: { text?: string; bytes?: string } | undefined): boolean {
  return isUnsymbolized(top) && index.byCode(instruction?.text, instruction?.bytes).some((l) => TRAMPOLINE_CANDIDATE_ROLES.includes(l.role));
}

/** Still in the trip the previous stop was in: stepped on from a handler phase. */
export function sameTrip(f: StopFacts): boolean {
  return f.stepped && HANDLER_PHASES.includes(f.previousPhase ?? 'host');
}

/** What else to read for this stop, beyond frames and instruction. */
export function wants(c: Classification, variant?: Variant, f?: Pick<StopFacts, 'pc' | 'frames' | 'framePcs'>): { ucontext: boolean; trappedInstruction: boolean; syscallNumber: boolean; dieRegisters?: string[]; dieMessage?: boolean; kvmRun?: [string, string]; dieUcontextFrames?: number[]; dieMarkerFrame?: number } {
  const ucontext = HANDLER_PHASES.includes(c.phase);
  const want = { ucontext, trappedInstruction: ucontext && c.phase === 'trapped', syscallNumber: c.phase === 'resumed' && c.landmark?.role === 'host-syscall' };
  if (!variant || !f) return want;
  // In a function bluepillHandler called (its raw system call): in KVM_RUN, or kicked out of it?
  if (c.phase === 'in-guest' && c.landmark?.role === 'bluepill-handler' && (c.frameIndex ?? 0) > 0) return { ...want, kvmRun: kvmRunRegisters(variant.arch) };
  // The die path: registers only at its marker PC or at dieTrampoline's entry, the message at dieHandler.
  if (dieMarker(variant.arch, f.pc)) return { ...want, dieRegisters: dieRegisters(variant.arch, 'marker') };
  if (c.landmark?.role === 'die' && /dieTrampoline$/.test(f.frames[0] ?? '')) return { ...want, dieRegisters: dieRegisters(variant.arch, 'trampoline') };
  if (c.landmark?.role === 'die' && /dieHandler$/.test(f.frames[0] ?? '')) return { ...want, dieMessage: true };
  // The host faulted at the marker after sigreturn, and the Go runtime's handler took the fault
  // (dlv stops in runtime.fatalsignal): the registers are in the ucontext runtime.sighandler got.
  // dlv's frames: runtime.fatalsignal, runtime.sighandler, runtime.sigtrampgo, then the marker.
  const marker = (f.framePcs ?? []).findIndex((pc, i) => i > 0 && dieMarker(variant.arch, pc));
  const handlers = marker > 0 ? f.frames.slice(0, marker).flatMap((name, i) => (GO_SIGNAL_CONTEXT[name] ? [i] : [])) : [];
  if (handlers.length) return { ...want, dieUcontextFrames: handlers, dieMarkerFrame: marker };
  return want;
}

/**
 * Where the Go runtime's signal path holds the ucontext (runtime/signal_unix.go): fatalsignal's
 * c.ctxt, sighandler's ctxt, sigtrampgo's ctx. Any one may be unreadable in optimised code
 * (dlv 1.27: sighandler's ctxt has no location at the call of fatalsignal), so each is tried.
 */
export const GO_SIGNAL_CONTEXT: Readonly<Record<string, string>> = { 'runtime.fatalsignal': 'c.ctxt', 'runtime.sighandler': 'ctxt', 'runtime.sigtrampgo': 'ctx' };

export interface ReadFacts {
  ucontext?: DecodedUcontext;
  /** The instruction at the ucontext PC (what trapped), in the trapped phase. */
  trappedInstruction?: { text?: string; bytes?: string };
  syscallNumber?: bigint;
  /** The symbol of the ucontext PC (local binary), if known. */
  ucontextPcSymbol?: string;
  /** The die path's registers, as wants() listed them, and the message dieHandler throws. */
  dieRegisters?: bigint[];
  /** The marker PC of a frame below the top (the fault the Go runtime's handler took). */
  dieMarkerPc?: bigint;
  dieMessage?: string;
  /** The function at an address (local binary), for the die path's PCs. */
  symbolFor?: (address: bigint) => string | undefined;
  /** At a raw system call under bluepillHandler: its result and ioctl request registers. */
  kvmRun?: { result?: bigint; request?: bigint };
}

export function diagnose(variant: Variant, c: Classification, f: StopFacts, read: ReadFacts): Diagnosis[] {
  const found: Diagnosis[] = [];
  const runaway = morestackRunaway(f.frames);
  if (runaway) found.push(runaway);
  if (c.landmark?.role === 'guest-only-trap') found.push(guestCodeOnHost(variant, `the instruction at ${hex(f.pc)}${f.frames[0] && !isUnsymbolized(f.frames[0]) ? ` in ${f.frames[0]}` : ''}`));
  if (c.phase === 'trapped' && read.trappedInstruction) {
    const foreign = foreignTrap(variant, read.trappedInstruction.text, read.trappedInstruction.bytes, read.ucontextPcSymbol);
    if (foreign) found.push(foreign);
  }
  if (read.syscallNumber !== undefined) found.push(hostSyscall(variant, read.syscallNumber, f.frames[0]));
  const symbolFor = read.symbolFor ?? (() => undefined);
  if (read.dieRegisters) {
    const markerPc = dieMarker(variant.arch, f.pc) ? f.pc : read.dieMarkerPc;
    const died = markerPc !== undefined ? decodeDieMarker(variant.arch, markerPc, read.dieRegisters, symbolFor) : decodeDieTrampoline(variant.arch, read.dieRegisters, symbolFor);
    if (died) found.push(died);
  }
  if (read.kvmRun && kickedOutOfKvmRun(read.kvmRun.result, read.kvmRun.request)) found.push(kickedOut(variant.arch));
  if (read.dieMessage !== undefined) found.push({ id: 'vcpu-died', severity: 'error', message: `vCPU died: dieHandler is about to throw ${read.dieMessage} (the vCPU's dieState.message, set by vCPU.die in the signal handler: bluepill.go).` });
  return found;
}

/** The name shown for the stop: the function, or the trampoline's label where it has none. */
export function stopSymbol(variant: Variant, c: Classification, top: string | undefined): string {
  if (!isUnsymbolized(top)) return top!;
  return c.landmark?.role === 'trampoline' ? trampolineLabel(variant.arch) : '???';
}

export function ucontextView(variant: Variant, u: DecodedUcontext, pcSymbol: string | undefined): UcontextView {
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
    sigmask: hex(u.sigmask),
    sigmaskSummary: describeSignalMask(u.sigmask),
  };
}

/** What the stopped thread is now, in words. */
export function stopMode(c: Classification, read: ReadFacts = {}): string {
  if (read.kvmRun && kickedOutOfKvmRun(read.kvmRun.result, read.kvmRun.request)) return KICKED_OUT_MODE;
  // A stopped thread is never running guest code: in the ioctl, the stop itself took it out of KVM_RUN.
  if (read.kvmRun && (read.kvmRun.result === undefined || read.kvmRun.request === undefined)) return UNREAD_SYSCALL_MODE;
  return c.phase === 'in-guest' ? 'guest (the thread is a vCPU at EL1 / ring 0 while in KVM_RUN)' : 'host (EL0 / ring 3)';
}

export function stopView(index: number, variant: Variant, c: Classification, f: StopFacts, read: ReadFacts = {}): StopView {
  return {
    index,
    time: f.time,
    threadId: f.threadId,
    pc: hex(f.pc),
    symbol: stopSymbol(variant, c, f.frames[0]),
    instruction: f.instruction?.text,
    phase: c.phase,
    phaseTitle: PHASES.find((p) => p.phase === c.phase)!.title,
    mode: stopMode(c, read),
    because: c.because,
    // Whether the code runs in guest mode comes from gVisor's source (the generated table, or its name
    // rules); a landmark's own flag speaks only for a name neither knows (e.g. a user's extra landmark).
    landmark: c.landmark ? { role: c.landmark.role, words: c.landmark.words, runsInGuest: (f.frames[0] ? runsInGuestMode(f.frames[0], variant.arch) : undefined) ?? c.landmark.runsInGuest } : undefined,
  };
}

export function tripStop(view: StopView, ucontext: UcontextView | undefined): TripStop {
  return { threadId: view.threadId, time: view.time, phase: view.phase, pc: view.pc, symbol: view.symbol, ucontextPc: ucontext?.pc };
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}
