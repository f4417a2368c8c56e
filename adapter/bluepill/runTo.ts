// Run to Next Phase, Run to Guest Exit, Run to Resume Point: how to get there from the
// current phase without a software breakpoint the guest could hit. A plan is a list of legs:
// continue to a function breakpoint (only in functions the generated table calls host-only),
// or single-step instructions (no breakpoint at all) on the short way back from the guest
// exit, through the rt_sigreturn trampoline, to the resume point (the ucontext PC, which is
// usually code the guest runs too). Pure: the extension carries the plan out.
import { hostOnlyInTable } from './guestCode';
import { GUEST_CODE } from './guestCode.generated';
import type { GuestCodeTable } from './guestCodeTypes';
import { PHASES, type Phase, type Variant } from './model';

export type RunToGoal = 'next-phase' | 'guest-exit' | 'resume-point';

export type Leg =
  /** Add a function breakpoint, continue, remove it at the next stop. */
  | { kind: 'break'; functionName: string; reaches: Phase }
  /** Step one instruction at a time until the phase is no longer `from` (at most `budget` steps). */
  | { kind: 'step'; from: Phase; reaches: Phase; budget: number };

export interface RunPlan {
  goal: RunToGoal;
  /** Empty when there is no safe way: then `words` says why. */
  legs: Leg[];
  words: string;
}

/** Single steps are only taken on the way back, where the path is short: the guest exit's copy, the trampoline, the resume. */
const STEP_FROM: ReadonlySet<Phase> = new Set(['guest-exit', 'sigreturn', 'resumed']);
/** Instructions stepped before giving up on one leg (the handler's copy into the ucontext is the longest part). */
export const STEP_BUDGET = 400;

const ORDER = PHASES.map((p) => p.phase);
/** A phase as the user reads it ("in guest (KVM_RUN)"). */
export const phaseTitle = (phase: Phase) => PHASES.find((p) => p.phase === phase)!.title;
const after = (phase: Phase) => ORDER[(ORDER.indexOf(phase) + 1) % ORDER.length];

/** The landmark functions of a phase, in the model's order, split by whether a breakpoint there is safe. */
function functionsOf(variant: Variant, phase: Phase, table: GuestCodeTable) {
  const names = variant.landmarks.filter((l) => l.phase === phase && !l.offPath).flatMap((l) => l.symbols ?? []);
  return { safe: names.filter((n) => hostOnlyInTable(n, variant.arch, table)), unsafe: names.filter((n) => !hostOnlyInTable(n, variant.arch, table)) };
}

function whyNot(variant: Variant, phase: Phase, table: GuestCodeTable): string {
  const { unsafe } = functionsOf(variant, phase, table);
  if (!unsafe.length) return `"${phaseTitle(phase)}" has no landmark function to break in`;
  return `"${phaseTitle(phase)}" has no function that gVisor ${table.gvisorVersion}'s table calls host-only on ${variant.arch} (${unsafe.join(', ')}: runs in guest mode too, or not in the table)`;
}

function breakLeg(variant: Variant, phase: Phase, table: GuestCodeTable): Leg | undefined {
  const [functionName] = functionsOf(variant, phase, table).safe;
  return functionName ? { kind: 'break', functionName, reaches: phase } : undefined;
}

function describe(legs: Leg[]): string {
  return legs.map((l) => (l.kind === 'break' ? `a breakpoint in ${l.functionName} (host only; removed at the next stop)` : `single steps to "${phaseTitle(l.reaches)}" (no breakpoint)`)).join(', then ');
}

function plan(goal: RunToGoal, legs: Leg[], skipped: string[] = []): RunPlan {
  const to = legs.length ? `To "${phaseTitle(legs[legs.length - 1].reaches)}" by ${describe(legs)}.` : '';
  return { goal, legs, words: [to, ...skipped.map((s) => `Skipped: ${s}.`)].join(' ') };
}

/** The next phase of the round trip; a phase without a safe way in is skipped, and said so. */
export function planNextPhase(variant: Variant, phase: Phase, table: GuestCodeTable = GUEST_CODE): RunPlan {
  const skipped: string[] = [];
  for (let from = phase, target = after(phase); target !== phase; from = target, target = after(target)) {
    const leg = breakLeg(variant, target, table);
    if (leg) return plan('next-phase', [leg], skipped);
    // Stepping only from where the thread is now: a skipped phase cannot be stepped out of.
    if (from === phase && STEP_FROM.has(phase)) return plan('next-phase', [{ kind: 'step', from: phase, reaches: target, budget: STEP_BUDGET }]);
    skipped.push(whyNot(variant, target, table));
  }
  return { goal: 'next-phase', legs: [], words: `No safe way to the next phase from "${phaseTitle(phase)}": ${skipped.join('; ')}.` };
}

/** The next guest exit: a breakpoint in the guest-exit landmark (kvm.bluepillGuestExit), host-only on every architecture. */
export function planGuestExit(variant: Variant, phase: Phase, table: GuestCodeTable = GUEST_CODE): RunPlan {
  const leg = breakLeg(variant, 'guest-exit', table);
  if (!leg) return { goal: 'guest-exit', legs: [], words: `No safe breakpoint for the guest exit: ${whyNot(variant, 'guest-exit', table)}.` };
  const planned = plan('guest-exit', [leg]);
  return phase === 'guest-exit' ? { ...planned, words: `${planned.words} (Already at a guest exit: this runs to the next one.)` } : planned;
}

/**
 * The resume point, where the host goes on at the ucontext PC after rt_sigreturn. Never a breakpoint
 * there: from the guest exit (reached by a breakpoint if need be), a breakpoint in a host-only
 * sigreturn function where the table has one, else single steps through the trampoline.
 */
export function planResumePoint(variant: Variant, phase: Phase, table: GuestCodeTable = GUEST_CODE): RunPlan {
  const legs: Leg[] = [];
  let at = phase;
  if (at !== 'guest-exit' && at !== 'sigreturn') {
    const exit = planGuestExit(variant, at, table);
    if (!exit.legs.length) return { goal: 'resume-point', legs: [], words: exit.words };
    legs.push(...exit.legs);
    at = 'guest-exit';
  }
  if (at === 'guest-exit') {
    legs.push(breakLeg(variant, 'sigreturn', table) ?? { kind: 'step', from: 'guest-exit', reaches: 'sigreturn', budget: STEP_BUDGET });
    at = 'sigreturn';
  }
  legs.push({ kind: 'step', from: 'sigreturn', reaches: 'resumed', budget: STEP_BUDGET });
  return plan('resume-point', legs);
}

export function planRunTo(goal: RunToGoal, variant: Variant, phase: Phase, table: GuestCodeTable = GUEST_CODE): RunPlan {
  if (goal === 'guest-exit') return planGuestExit(variant, phase, table);
  if (goal === 'resume-point') return planResumePoint(variant, phase, table);
  return planNextPhase(variant, phase, table);
}
