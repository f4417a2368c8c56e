// Where is this thread in the round trip? Decided from the stopped thread's frames
// (names, top first) and the instruction at its PC, plus the phase of the previous
// stop: after the sigreturn trampoline, wherever the thread stops is "resumed".
import type { Landmark, Phase } from './model';
import type { LandmarkIndex } from './symbols';

export interface StopFacts {
  /** Function names of the stopped thread, top frame first ("???" or "" for no symbol). */
  frames: string[];
  /** The instruction at the top frame's PC. */
  instruction?: { text?: string; bytes?: string };
  previousPhase?: Phase;
  /** The thread got here by a step (not a continue) from its previous stop. */
  stepped?: boolean;
  /**
   * Whether the code at the PC, read around it, is the whole rt_sigreturn trampoline (see
   * trampoline.ts). Only the sequence says so: the instruction alone is any SVC/SYSCALL.
   */
  trampoline?: boolean;
}

/** Roles whose instruction pattern is one instruction of the trampoline, or any system call. */
export const TRAMPOLINE_CANDIDATE_ROLES: readonly string[] = ['trampoline', 'sigreturn-call', 'host-syscall'];

export interface Classification {
  phase: Phase;
  landmark?: Landmark;
  /** The frame whose function decided it (0 = top). */
  frameIndex?: number;
  because: string;
}

const HANDLER_PHASES: Phase[] = ['trapped', 'in-guest', 'guest-exit'];

/** No symbol: dlv's "???", or the label the proxy gave such a frame ("[vdso] ...", "[anonymous] ..."). */
export function isUnsymbolized(name: string | undefined): boolean {
  return !name || name === '???' || name === '?' || name.startsWith('[');
}

export function classifyStop(index: LandmarkIndex, facts: StopFacts): Classification {
  const top = facts.frames[0];
  const codes = index.byCode(facts.instruction?.text, facts.instruction?.bytes);
  const code = (...roles: string[]) => codes.find((l) => roles.includes(l.role));
  const named = top !== undefined ? index.bySymbolName(top) : undefined;
  const previous = facts.previousPhase;

  // Unsymbolized code that is the rt_sigreturn trampoline (the vDSO's, or a copy): both its
  // instructions, the sequence checked whole. Any other SVC/SYSCALL without a symbol is a system call.
  if (isUnsymbolized(top) && facts.trampoline && code(...TRAMPOLINE_CANDIDATE_ROLES)) {
    const trampoline = index.variant.landmarks.find((l) => l.role === 'trampoline' || l.role === 'sigreturn-call')!;
    return { phase: 'sigreturn', landmark: trampoline, frameIndex: 0, because: 'the code at the PC is the rt_sigreturn trampoline' };
  }
  if (named && (named.role === 'trampoline' || named.role === 'sigreturn-call')) {
    return { phase: 'sigreturn', landmark: named, frameIndex: 0, because: `the thread is in ${top}` };
  }

  // The first stop after the trampoline is where the host resumed: the exit PC.
  if (previous === 'sigreturn' && !(named && HANDLER_PHASES.includes(named.phase))) {
    const landmark = code('host-syscall', 'trap-instruction', 'guest-only-trap') ?? named;
    return { phase: 'resumed', landmark, frameIndex: 0, because: 'first stop after the sigreturn trampoline: the host resumed at the exit PC' };
  }

  const trap = code('trap-instruction');
  if (trap) {
    return { phase: 'entering', landmark: trap, frameIndex: 0, because: `the instruction at the PC is the bluepill trap${top && !isUnsymbolized(top) ? ` (in ${top})` : ''}` };
  }
  const guestOnly = code('guest-only-trap');
  if (guestOnly) {
    return { phase: 'entering', landmark: guestOnly, frameIndex: 0, because: `the instruction at the PC is ring0's guest-only MRS TPIDR_EL1, R18${top && !isUnsymbolized(top) ? ` (in ${top})` : ''}, running on the host: it will trap, and not as the bluepill` };
  }

  // Stepping on from the exit PC through the rest of kvm.bluepill (its compare and return)
  // finishes this trip; only the trap instruction itself opens the next one.
  if (previous === 'resumed' && facts.stepped && named?.role === 'bluepill') {
    return { phase: 'resumed', landmark: named, frameIndex: 0, because: `still in ${top} after resuming at the exit PC: the rest of it returns to the caller` };
  }

  let found: Classification | undefined;
  if (named) {
    found = { phase: named.phase, landmark: named, frameIndex: 0, because: `the thread is in ${top}` };
  } else {
    // Deeper frames: stopped in a helper (a raw syscall, a runtime function) called from the handler.
    for (let i = 1; i < facts.frames.length && !found; i++) {
      const landmark = index.bySymbolName(facts.frames[i]);
      if (landmark && HANDLER_PHASES.includes(landmark.phase)) found = { phase: landmark.phase, landmark, frameIndex: i, because: `${facts.frames[i]} is on the stack (frame ${i})` };
    }
  }
  if (found) {
    // After the guest exit the handler only unwinds towards the trampoline: it stays "guest exit".
    if (previous === 'guest-exit' && (found.phase === 'trapped' || found.phase === 'in-guest')) {
      return { ...found, phase: 'guest-exit', because: `${found.because}, returning to the trampoline after the guest exit` };
    }
    return found;
  }
  return { phase: 'host', because: 'no bluepill landmark on the stack' };
}
