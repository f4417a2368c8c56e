// Register values split into fields with the layouts Linux describes (sysregFields.generated.ts,
// from Debian's linux-source-6.12: arch/arm64/tools/sysreg and a few headers).
import { SYSREG_LAYOUTS, type FieldLayout, type RegisterLayout } from './sysregFields.generated';

export interface DecodedField {
  name: string;
  value: string;
  meaning?: string;
}

const byUpperName = new Map(Object.entries(SYSREG_LAYOUTS).map(([name, layout]) => [name.toUpperCase(), { name, layout }]));

/**
 * The layout for a register name: as Linux spells it, or an alias with the same layout
 * (ESR_EL1/2/3 share ESR_ELx; SPSR_ELx, CPSR and DSPSR_EL0 hold a PSTATE; X_EL12 is X_EL1 seen from EL2).
 */
export function layoutFor(name: string): { name: string; layout: RegisterLayout } | undefined {
  const upper = name.toUpperCase();
  if (/^ESR_EL\d$/.test(upper)) return byUpperName.get('ESR_ELX');
  if (upper === 'PSTATE' || upper === 'CPSR' || upper === 'DSPSR_EL0' || /^SPSR_EL\d+$/.test(upper)) return byUpperName.get('PSTATE');
  return byUpperName.get(upper) ?? byUpperName.get(upper.replace(/_EL(\d)2$/, '_EL$1'));
}

export function fieldValue(value: bigint, [msb, lsb]: FieldLayout): bigint {
  return (value >> BigInt(lsb)) & ((1n << BigInt(msb - lsb + 1)) - 1n);
}

/** Every named field of the value, with the enumeration's name where Linux gives one. */
export function decodeFields(layout: RegisterLayout, value: bigint): DecodedField[] {
  return layout.fields.map((f) => {
    const v = fieldValue(value, f);
    const [msb, lsb, name, values] = f;
    const bitsText = msb === lsb ? `bit ${msb}` : `bits ${msb}:${lsb}`;
    const shown = msb - lsb >= 4 ? `0x${v.toString(16)}` : String(v);
    const named = values?.[Number(v)];
    return { name, value: shown, meaning: named ? `${named} (${bitsText})` : bitsText };
  });
}

/** The field layout in one line, for hovers: `ASID 63:48 · BADDR 47:1 · CnP 0`. */
export function layoutSummary(layout: RegisterLayout): string {
  return layout.fields.map(([msb, lsb, name]) => `${name} ${msb === lsb ? msb : `${msb}:${lsb}`}`).join(' · ');
}

export function fieldOf(layout: RegisterLayout, name: string): FieldLayout | undefined {
  return layout.fields.find((f) => f[2] === name);
}
