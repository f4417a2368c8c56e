// What a system register access does in user space (EL0) under Linux, as measured on a
// real ARM64 kernel (el0Access.generated.ts), not as the encoding's op1 alone suggests:
// Linux emulates reads of MIDR_EL1, MPIDR_EL1, REVIDR_EL1 and the ID registers (EL1's),
// and leaves DAIF, the PMU counters and CNTPCT_EL0 (EL0's by their encoding) trapping.
import { EL0_ACCESS_SOURCE, EL0_PSTATE, EL0_READS, EL0_WRITES_BACK } from './el0Access.generated';
import { minExceptionLevel } from './encoding';

/**
 * completes: the access ran at EL0; emulated: it completed, but the kernel ran it (the register is
 * EL1's); sigill: it raised SIGILL. Writes were tried only of registers the probe could read:
 * an EL1 register's write is 'sigill-by-encoding' (EL0 may not, and Linux emulates no write),
 * an EL0 register's is 'unmeasured'.
 */
export type El0Outcome = 'completes' | 'emulated' | 'sigill' | 'sigill-by-encoding' | 'unmeasured';

/**
 * "Linux 6.1.0-57-arm64 on QEMU's max CPU": where the outcomes were measured. The CPU matters: a
 * register of an optional feature (RNDR, DIT, SSBS, TCO, SVCR) reads or traps as the CPU has it.
 */
export const EL0_MEASURED_ON = `Linux ${EL0_ACCESS_SOURCE.kernelRelease} on QEMU's ${EL0_ACCESS_SOURCE.qemuCpu.split(',')[0]} CPU`;

/** Whether the outcome was measured (not inferred from the encoding). */
export function measured(outcome: El0Outcome): boolean {
  return outcome === 'completes' || outcome === 'emulated' || outcome === 'sigill';
}

function inRuns(runs: ReadonlyArray<readonly [number, number]>, field: number): boolean {
  return runs.some(([first, last]) => field >= first && field <= last);
}

export function el0Outcome(field: number, direction: 'mrs' | 'msr'): El0Outcome {
  const elOne = minExceptionLevel(field) >= 1;
  if (direction === 'mrs') return inRuns(EL0_READS, field) ? (elOne ? 'emulated' : 'completes') : 'sigill';
  if (inRuns(EL0_WRITES_BACK, field)) return 'completes';
  if (inRuns(EL0_READS, field)) return 'sigill'; // written back after its read completed: SIGILL
  return elOne ? 'sigill-by-encoding' : 'unmeasured';
}

/** The outcome of `MSR <PSTATE field>, #imm` at EL0, by LLVM's name (DAIFSET, SSBS...); undefined if not measured. */
export function el0PstateOutcome(name: string): El0Outcome | undefined {
  const measured = EL0_PSTATE[name.toUpperCase()];
  return measured === undefined ? undefined : measured ? 'completes' : 'sigill';
}
