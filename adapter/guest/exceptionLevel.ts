// ARM64: was the guest at EL0 (the application) or at EL1 (the Sentry's ring0 and the code it
// runs after bluepill) when it exited? The arm64 exit events do not say: kvm_exit (6.1) has
// ret, esr_ec and vcpu_pc, and an exception class "*_LOW" (DABT_LOW, IABT_LOW) means "from a
// lower exception level" than EL2, where KVM takes it: the guest's EL0 or EL1 alike (ARM ARM,
// ESR_ELx.EC). What does say it:
//
// - gVisor's address layout (pinned version): the kernel half is mapped for EL1 only
//   (kvm/machine_arm64.go mapUpperHalf: MapOpts{AccessType: AnyAccess, Global: true}, no User;
//   ring0/pagetables/pagetables_aarch64.go: only User makes a page accessible at EL0), so a PC
//   there is EL1. At EL1 the guest runs only runsc's own code, at its host address (lower half)
//   or its kernel-half alias: a lower-half PC outside runsc's functions is the application, EL0.
// - Inside runsc's text (an ET_EXEC application such as busybox loads at 0x400000, inside the
//   arm64 runsc's .text), the data abort's syndrome decides: with ISV set, ESR_EL2's ISS gives
//   the access's size (SAS), register (SRT) and direction (WnR) (ARM ARM, ISS encoding for an
//   exception from a Data Abort); kvm_guest_fault prints the whole ESR as "hsr". If runsc's
//   instruction at that PC is not that access, the guest was not running runsc's code: EL0.
import type { GuestArch } from './addressMap';

export type ExceptionLevel = 'EL1' | 'EL0' | 'EL0 or EL1';

export interface LevelJudgement {
  level: ExceptionLevel;
  why: string;
}

/** ESR_ELx.EC of a data abort from a lower exception level (DABT_LOW). */
const EC_DABT_LOW = 0x24;

export interface DataAbortSyndrome {
  ec: number;
  /** ISV: the fields below are valid (a single general-purpose register load or store). */
  valid: boolean;
  bytes: number;
  signExtend: boolean;
  /** The register transferred (SRT); 31 is XZR/WZR. */
  register: number;
  write: boolean;
}

/** The data abort fields of an ESR value (kvm_guest_fault's hsr), or undefined when it is no data abort from a lower level. */
export function dataAbortSyndrome(esr: bigint): DataAbortSyndrome | undefined {
  const e = Number(esr & 0xffffffffn);
  const ec = (e >>> 26) & 0x3f;
  if (ec !== EC_DABT_LOW) return undefined;
  return { ec, valid: ((e >>> 24) & 1) === 1, bytes: 1 << ((e >>> 22) & 3), signExtend: ((e >>> 21) & 1) === 1, register: (e >>> 16) & 0x1f, write: ((e >>> 6) & 1) === 1 };
}

export interface InstructionAccess {
  write: boolean;
  bytes: number;
  register: number;
}

const SINGLE_ACCESS = /^(ldr|str|ldur|stur|ldtr|sttr|ldar|stlr|ldapr|ldlar|stllr)(s?)(b|h|w)?\s+([wx])(\d+|zr)\b/;

/**
 * What a single-register load or store moves, from objdump's aarch64 text ("strb w7, [sp, #91]");
 * null for an instruction that accesses no data memory; undefined when it cannot tell (pairs,
 * SIMD registers, atomics: their aborts carry no valid syndrome anyway).
 */
export function instructionAccess(text: string): InstructionAccess | null | undefined {
  const t = text.trim().toLowerCase();
  const m = SINGLE_ACCESS.exec(t);
  if (m) {
    const [, op, , size, width, reg] = m;
    const bytes = size === 'b' ? 1 : size === 'h' ? 2 : size === 'w' ? 4 : width === 'x' ? 8 : 4;
    return { write: op.startsWith('st'), bytes, register: reg === 'zr' ? 31 : Number(reg) };
  }
  // Loads, stores, atomics, prefetches and cache maintenance touch memory; anything else does not.
  return /^(ld|st|prfm|prfum|cas|swp|dc\b|ic\b|at\b)/.test(t) ? undefined : null;
}

/**
 * Which exception level a guest exit at `pc` came from. `inRunsc`: runsc has a function at the
 * (host) address; `esr`: the syndrome of a data abort at that PC (kvm_guest_fault's hsr);
 * `instruction`: runsc's instruction at that address (objdump).
 */
export function exitLevel(arch: GuestArch, half: 'lower' | 'upper', inRunsc: boolean, esr?: bigint, instruction?: string): LevelJudgement | undefined {
  if (arch !== 'arm64') return undefined;
  if (half === 'upper') return { level: 'EL1', why: 'the kernel half, mapped for EL1 only: ring0 or the Sentry at its kernel-half alias' };
  if (!inRunsc) return { level: 'EL0', why: 'the lower half outside runsc\'s code: at EL1 the guest runs only runsc\'s own code, so this is the application' };
  const syndrome = esr !== undefined ? dataAbortSyndrome(esr) : undefined;
  if (!syndrome?.valid || instruction === undefined) return { level: 'EL0 or EL1', why: 'inside runsc\'s code in the lower half, where an application may be loaded too; no data-abort syndrome to check it by' };
  const access = instructionAccess(instruction);
  const said = `${syndrome.bytes}-byte ${syndrome.write ? 'write from' : 'read into'} register ${syndrome.register}`;
  if (access === null) return { level: 'EL0', why: `the exit's syndrome is a ${said}, and runsc's instruction there (${instruction}) accesses no memory: the guest ran other code at this address, the application's` };
  if (access === undefined) return { level: 'EL0 or EL1', why: `the exit's syndrome is a ${said}; runsc's instruction there (${instruction}) cannot be compared with it` };
  if (access.write === syndrome.write && access.bytes === syndrome.bytes && access.register === syndrome.register) {
    return { level: 'EL1', why: `runsc's instruction there (${instruction}) is the access the exit's syndrome describes (${said})` };
  }
  return { level: 'EL0', why: `the exit's syndrome is a ${said}, but runsc's instruction there is ${instruction}: the guest ran other code at this address, the application's` };
}
