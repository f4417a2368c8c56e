// How AArch64 encodes a system register in MRS/MSR: a 15-bit field o0:op1:CRn:CRm:op2
// (op0 = 2 + o0). Go's disassembler prints that field in decimal (`MRS $18052, R18`).

export interface SysregFields {
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
}

export const MRS_BASE = 0xd5300000;
export const MSR_BASE = 0xd5100000;
/** MRS/MSR (register): bits 31..22 are 1101010100, bit 21 is L (1 = MRS), bit 20 is 1 (op0 >= 2). */
const MOVE_MASK = 0xfff00000;
/** MSR (immediate): 1101 0101 0000 0 op1 0100 CRm op2 11111. */
const MSR_IMM_MASK = 0xfff8f01f;
const MSR_IMM_BASE = 0xd500401f;

export function fieldsOf(field: number): SysregFields {
  return { op0: 2 + ((field >> 14) & 1), op1: (field >> 11) & 7, crn: (field >> 7) & 15, crm: (field >> 3) & 15, op2: field & 7 };
}

export function fieldFrom({ op0, op1, crn, crm, op2 }: SysregFields): number {
  return ((op0 - 2) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** The generic spelling every assembler accepts, e.g. S3_0_C13_C0_4. */
export function genericName(field: number): string {
  const f = fieldsOf(field);
  return `S${f.op0}_${f.op1}_C${f.crn}_C${f.crm}_${f.op2}`;
}

export type MoveInstruction =
  | { kind: 'mrs' | 'msr'; field: number; rt: number }
  | { kind: 'msr-imm'; op1: number; op2: number; crm: number };

/** Decodes an instruction word that moves to or from a system register; undefined for anything else. */
export function decodeMoveWord(word: number): MoveInstruction | undefined {
  const w = word >>> 0;
  if ((w & MOVE_MASK) >>> 0 === MRS_BASE) return { kind: 'mrs', field: (w >>> 5) & 0x7fff, rt: w & 31 };
  if ((w & MOVE_MASK) >>> 0 === MSR_BASE) return { kind: 'msr', field: (w >>> 5) & 0x7fff, rt: w & 31 };
  if ((w & MSR_IMM_MASK) >>> 0 === MSR_IMM_BASE) return { kind: 'msr-imm', op1: (w >>> 16) & 7, op2: (w >>> 5) & 7, crm: (w >>> 8) & 15 };
  return undefined;
}

export function encodeMove(kind: 'mrs' | 'msr', field: number, rt = 0): number {
  return ((kind === 'mrs' ? MRS_BASE : MSR_BASE) | (field << 5) | rt) >>> 0;
}

export type ExceptionLevel = 0 | 1 | 2 | 3;

/**
 * The lowest exception level that may access a register, from its op1: the Arm ARM
 * (DDI 0487, "System register encoding") reserves op1 values by level: 0, 1, 2 and 7
 * for EL1, 3 for EL0 (subject to EL1's traps), 4 and 5 for EL2 (5 = the _EL12/_EL02
 * aliases used from EL2), 6 for EL3.
 */
export function minExceptionLevel(field: number): ExceptionLevel {
  const levels: ExceptionLevel[] = [1, 1, 1, 0, 2, 2, 3, 1];
  return levels[fieldsOf(field).op1];
}
