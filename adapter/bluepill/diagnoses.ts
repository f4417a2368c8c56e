// Diagnoses raised only where the evidence holds: a runaway of runtime.morestack
// frames, a SIGILL that is not the bluepill trap, and a resume at a system call the
// host now executes for the guest.
import type { Variant } from './model';
import { SYSCALL_NAMES } from './syscalls.generated';
import { isUnsymbolized } from './classify';
import { fpacEvidence, pointerAuthForm } from './pointerAuth';

export interface Diagnosis {
  id: 'morestack-runaway' | 'foreign-trap' | 'host-syscall' | 'guest-code-on-host' | 'vcpu-died' | 'vcpu-kicked-out' | 'wrong-binary';
  severity: 'info' | 'warning' | 'error';
  message: string;
}

export const MORESTACK_RUNAWAY = 32;

/**
 * 32 or more runtime.morestack frames in a row. morestack cannot nest (it switches to g0 and calls
 * newstack; on g0 or the signal stack it aborts: badmorestackg0/badmorestackgsignal in the Go
 * runtime's asm_arm64.s/asm_amd64.s), so such a run is the unwinder going round a loop, not a
 * stack growing: the real stack is the frames above the run.
 */
export function morestackRunaway(frames: string[]): Diagnosis | undefined {
  let run = 0;
  let longest = 0;
  let firstOfLongest = 0;
  frames.forEach((f, i) => {
    run = f.endsWith('runtime.morestack') || f === 'runtime.morestack' ? run + 1 : 0;
    if (run > longest) [longest, firstOfLongest] = [run, i - run + 1];
  });
  if (longest < MORESTACK_RUNAWAY) return undefined;
  const real = firstOfLongest === 0 ? 'no frame above it: the walk went wrong at the top frame' : `the real stack is frames 0–${firstOfLongest} (${frames.slice(Math.max(0, firstOfLongest - 1), firstOfLongest + 1).map((f) => f.slice(f.lastIndexOf('/') + 1)).join(' → ')})`;
  return {
    id: 'morestack-runaway',
    severity: 'warning',
    message: `${longest} runtime.morestack frames in a row, from frame ${firstOfLongest}: the unwinder is going round a loop, not the stack growing. morestack cannot nest (it switches to g0 to call newstack, and aborts when already on g0 or the signal stack), so only one of these frames is real; ${real}. In gVisor's KVM platform a walk through a signal frame or guest-mode stack (a frame record the unwinder cannot follow) gives such loops.`,
  };
}

/**
 * In the signal handler, the ucontext PC tells which instruction trapped. If it is
 * not the variant's trap instruction, this SIGILL/SIGSEGV is something else.
 */
export function foreignTrap(variant: Variant, trappedText: string | undefined, trappedBytes: string | undefined, symbol: string | undefined): Diagnosis | undefined {
  const matches = (role: string) => {
    const pattern = variant.landmarks.find((l) => l.role === role)?.instruction;
    return !!pattern && ((trappedText !== undefined && !!pattern.text?.test(trappedText)) || (trappedBytes !== undefined && !!pattern.bytes?.some((b) => trappedBytes.toLowerCase().startsWith(b))));
  };
  if (!variant.landmarks.some((l) => l.role === 'trap-instruction') || (trappedText === undefined && trappedBytes === undefined)) return undefined;
  if (matches('trap-instruction')) return undefined;
  const where = `${trappedText ?? trappedBytes}${symbol && !isUnsymbolized(symbol) ? ` in ${symbol}` : ''}`;
  if (matches('guest-only-trap')) return guestCodeOnHost(variant, where);
  const pac = variant.arch === 'arm64' ? pointerAuthForm(trappedBytes) : undefined;
  return {
    id: 'foreign-trap',
    severity: 'warning',
    message: pac
      ? `This ${variant.trapSignal.name} is not the bluepill: it came from ${where}, a pointer authentication check that failed. ${fpacEvidence(pac.combined)} Code signed in the guest (e.g. a vDSO function's PACIASP) was checked on the host with other keys; gVisor disables host PAC keys for this (disableHostPAC, machine_arm64_unsafe.go). ${variant.foreignSignal}`
      : `This ${variant.trapSignal.name} is not the bluepill: the trapping instruction is ${where}, not the variant's trap. ${variant.foreignSignal}`,
  };
}

/**
 * ring0's MRS TPIDR_EL1, R18 (its entry and exit paths) runs on the host, or trapped there:
 * guest-only code the host never runs in a healthy round trip.
 */
export function guestCodeOnHost(variant: Variant, where: string): Diagnosis {
  return {
    id: 'guest-code-on-host',
    severity: 'error',
    message: `Something went wrong: ${where} is ring0's MRS TPIDR_EL1, R18, guest-only code (pkg/ring0/entry_arm64.s), and the host is running it. The host resumes where a guest exit left the vCPU, and a healthy exit leaves it outside ring0 (vCPU.KernelSyscall rewinds to the SVC); so the guest stopped inside ring0, or the host jumped there. At EL0 the MRS raises SIGILL, and this is not the bluepill: ${variant.foreignSignal}`,
  };
}

export function syscallName(arch: 'arm64' | 'amd64', number: bigint): string {
  return SYSCALL_NAMES[arch][Number(number)] ?? `syscall ${number}`;
}

/** Resumed at an SVC/SYSCALL: the host now executes a system call on the guest's behalf. */
export function hostSyscall(variant: Variant, number: bigint, symbol: string): Diagnosis {
  const name = number === 0xffffffffffffffffn ? 'the redpill (-1: leave the guest)' : `${syscallName(variant.arch, number)} (${number})`;
  return {
    id: 'host-syscall',
    severity: 'info',
    message: `Resumed at ${variant.arch === 'arm64' ? 'an SVC' : 'a SYSCALL'}${symbol && !isUnsymbolized(symbol) ? ` in ${symbol}` : ''}: the host now executes ${name} for the guest (${variant.syscallRegister} = ${number}).`,
  };
}
