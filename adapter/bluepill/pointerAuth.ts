// Pointer-authentication instructions, by encoding (checked against binutils' disassembler in
// test/runsc/roundTripModel.test.ts): every form that authenticates (AUT*), and the combined
// forms that authenticate and branch or load (RETAA, BRAA, BLRAA, ERETAA, LDRAA and their B/Z forms).
import { SYSREG_LAYOUTS } from '../arm64/sysregFields.generated';

export interface Encoding {
  mask: number;
  value: number;
  /** Authenticates and uses the pointer in one instruction. */
  combined: boolean;
}

export const ENCODINGS: readonly Encoding[] = [
  // AUTIA1716, AUTIB1716, AUTIAZ, AUTIASP, AUTIBZ, AUTIBSP (hint space).
  ...[0xd503219f, 0xd50321df, 0xd503239f, 0xd50323bf, 0xd50323df, 0xd50323ff].map((value) => ({ mask: 0xffffffff, value, combined: false })),
  { mask: 0xfffff000, value: 0xdac11000, combined: false }, // AUTIA, AUTIB, AUTDA, AUTDB Xd, Xn
  { mask: 0xfffff3e0, value: 0xdac133e0, combined: false }, // AUTIZA, AUTIZB, AUTDZA, AUTDZB Xd
  { mask: 0xfffffbff, value: 0xd65f0bff, combined: true }, // RETAA, RETAB
  { mask: 0xfffffbff, value: 0xd69f0bff, combined: true }, // ERETAA, ERETAB
  { mask: 0xfffff800, value: 0xd71f0800, combined: true }, // BRAA, BRAB
  { mask: 0xfffff800, value: 0xd73f0800, combined: true }, // BLRAA, BLRAB
  { mask: 0xfffff81f, value: 0xd61f081f, combined: true }, // BRAAZ, BRABZ
  { mask: 0xfffff81f, value: 0xd63f081f, combined: true }, // BLRAAZ, BLRABZ
  { mask: 0xff200400, value: 0xf8200400, combined: true }, // LDRAA, LDRAB
];

/** The instruction word at the start of `bytes` (memory order, hex), if there are four bytes. */
function firstWord(bytes: string | undefined): number | undefined {
  return bytes && bytes.length >= 8 ? Buffer.from(bytes.slice(0, 8), 'hex').readUInt32LE(0) : undefined;
}

/** Whether the word is a pointer-authentication instruction, and whether it is a combined one. */
export function pointerAuthForm(bytes: string | undefined): { combined: boolean } | undefined {
  const word = firstWord(bytes);
  if (word === undefined) return undefined;
  const hit = ENCODINGS.find((e) => ((word & e.mask) >>> 0) === e.value >>> 0);
  return hit && { combined: hit.combined };
}

/** ID_AA64ISAR1_EL1.API's name for a value (generated from Linux's arch/arm64/tools/sysreg). */
function apiLevel(value: number): string {
  const api = SYSREG_LAYOUTS.ID_AA64ISAR1_EL1?.fields.find((f) => f[2] === 'API');
  return api?.[3]?.[value] ?? `API=${value}`;
}

/**
 * What a SIGILL at a pointer-authentication instruction says about the CPU: a failed check
 * that traps where it happens is FEAT_FPAC (a combined one, FEAT_FPACCOMBINE); without them the
 * failed check only corrupts the pointer, and the fault comes later, where the pointer is used.
 */
export function fpacEvidence(combined: boolean): string {
  return combined
    ? `The failed check trapped at the combined instruction itself: the CPU has ${apiLevel(5)} (ID_AA64ISAR1_EL1.API/APA ≥ 5). Without it the branch would go to the corrupted address and fault there.`
    : `The failed check trapped at the AUT instruction itself: the CPU has ${apiLevel(4)} (ID_AA64ISAR1_EL1.API/APA ≥ 4; ESR EC 0x1C). Without it the AUT would only corrupt the pointer, and the fault would come where the pointer is used.`;
}
