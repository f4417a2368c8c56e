// What a system register encoding is: its names in each direction, who may access
// it, and what it is for. Lookups by field are one array index.
import { PSTATE_FIELDS, SYSREG_DISAGREEMENTS, SYSREG_ROWS } from './sysregs.generated';
import { describeRegister } from './descriptions';
import { fieldsOf, genericName, minExceptionLevel, type ExceptionLevel, type SysregFields } from './encoding';
import { EL0_MEASURED_ON, el0Outcome } from './el0Access';

export interface SysregInfo {
  field: number;
  generic: string;
  fields: SysregFields;
  /** Name when read with MRS ('' when MRS of it is not defined). */
  mrsName: string;
  /** Name when written with MSR ('' when MSR to it is not defined). */
  msrName: string;
  readOnly: boolean;
  writeOnly: boolean;
  minEl: ExceptionLevel;
  description: string;
  /** binutils' names where they differ from LLVM's (which we follow). */
  binutilsDiffers?: { mrs?: string; msr?: string };
}

const FIELD_COUNT = 1 << 15;
const mrsNames: string[] = new Array(FIELD_COUNT).fill('');
const msrNames: string[] = new Array(FIELD_COUNT).fill('');
const byName = new Map<string, number>();
for (const [field, mrs, msr] of SYSREG_ROWS) {
  mrsNames[field] = mrs;
  msrNames[field] = msr;
  if (mrs) byName.set(mrs, field);
  if (msr && !byName.has(msr)) byName.set(msr, field);
}
const binutilsNotes = new Map<number, { mrs?: string; msr?: string }>();
for (const [field, direction, , binutils] of SYSREG_DISAGREEMENTS) {
  const note = binutilsNotes.get(field) ?? {};
  note[direction] = binutils || '(unnamed)';
  binutilsNotes.set(field, note);
}

export function isNamed(field: number): boolean {
  return mrsNames[field] !== '' || msrNames[field] !== '';
}

/** The name for one direction, or the generic spelling when that direction has none. */
export function nameFor(field: number, direction: 'mrs' | 'msr'): string {
  return (direction === 'mrs' ? mrsNames[field] : msrNames[field]) || genericName(field);
}

export function sysregInfo(field: number): SysregInfo {
  const mrsName = mrsNames[field];
  const msrName = msrNames[field];
  return {
    field,
    generic: genericName(field),
    fields: fieldsOf(field),
    mrsName,
    msrName,
    readOnly: mrsName !== '' && msrName === '',
    writeOnly: msrName !== '' && mrsName === '',
    minEl: minExceptionLevel(field),
    description: describeEncoding(mrsName, msrName),
    binutilsDiffers: binutilsNotes.get(field),
  };
}

function describeEncoding(mrsName: string, msrName: string): string {
  if (!mrsName && !msrName) return 'No architected register at this encoding (implementation defined, or unallocated).';
  if (mrsName && msrName && mrsName !== msrName) return `Read as ${mrsName}: ${describeRegister(mrsName)} Written as ${msrName}: ${describeRegister(msrName)}`;
  return describeRegister(mrsName || msrName);
}

export function fieldByName(name: string): number | undefined {
  return byName.get(name.toUpperCase());
}

/** The PSTATE field that `MSR #imm, <field>` writes, by encoding or by name. */
export function pstateField(op1: number, op2: number, crm: number): string | undefined {
  return PSTATE_FIELDS.find(([o1, o2, mask]) => o1 === op1 && o2 === op2 && (mask === -1 || (mask & (1 << crm)) !== 0))?.[3];
}

export function pstateFieldByName(name: string): string | undefined {
  const upper = name.toUpperCase();
  return PSTATE_FIELDS.find((p) => p[3] === upper)?.[3];
}

/**
 * "EL1 only: traps at EL0 (SIGILL)" and the like: who may access it by its encoding, and what an
 * access from user space does under Linux where that was measured (el0Access.ts).
 */
export function accessSummary(info: Pick<SysregInfo, 'minEl' | 'field'>, direction: 'mrs' | 'msr' = 'mrs'): string {
  const linux = el0Outcome(info.field, direction);
  const verb = direction === 'mrs' ? 'read' : 'write';
  switch (info.minEl) {
    case 0:
      if (linux === 'completes') return `EL0 and up: the ${verb} runs at EL0 (measured: ${EL0_MEASURED_ON})`;
      if (linux === 'sigill') return `EL0 and up by its encoding, but the ${verb} raises SIGILL at EL0 (measured: ${EL0_MEASURED_ON})`;
      return 'EL0 and up (EL1 may trap it)';
    case 1:
      return linux === 'emulated' ? `EL1 only: at EL0 Linux emulates the read, no SIGILL (measured: ${EL0_MEASURED_ON})` : 'EL1 only: traps at EL0 (SIGILL)';
    case 2:
      return 'EL2 only: traps at EL0 (SIGILL) and EL1';
    case 3:
      return 'EL3 only: traps at EL0 (SIGILL), EL1 and EL2';
  }
}

/** Short form for inline annotations: "EL1 only" etc., with Linux's own outcome where it differs from what that says. */
export function accessShort(info: Pick<SysregInfo, 'minEl' | 'field'>, direction: 'mrs' | 'msr' = 'mrs'): string {
  const linux = el0Outcome(info.field, direction);
  if (info.minEl === 0) return linux === 'sigill' ? 'EL0, SIGILL on Linux' : 'EL0';
  return linux === 'emulated' ? `EL${info.minEl} only, emulated at EL0 by Linux` : `EL${info.minEl} only`;
}
