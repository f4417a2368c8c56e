// Decodes register values a user meets while debugging the bluepill: PSTATE/SPSR (is this host
// EL0 or guest EL1?), ESR_ELx (why did the guest trap?), MIDR_EL1 (which CPU?), and every register
// Linux describes. Layouts, enumerations, exception class and CPU names are generated from Linux
// (sysregFields.generated.ts); the words about the bluepill are ours.
import { decodeFields, fieldOf, fieldValue, layoutFor, type DecodedField } from './sysregFields';
import { MIDR_IMPLEMENTERS, MIDR_PARTS, SYSREG_LAYOUTS } from './sysregFields.generated';

export type { DecodedField };

export interface DecodedValue {
  register: string;
  summary: string;
  fields: DecodedField[];
}

const bit = (v: bigint, n: number) => Number((v >> BigInt(n)) & 1n);
const bits = (v: bigint, hi: number, lo: number) => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));

const PSTATE = SYSREG_LAYOUTS.PSTATE;
const field = (name: string) => fieldOf(PSTATE, name)!;

/** PSTATE.M[3:0] for AArch64: the exception level and which stack pointer it uses (Linux's PSR_MODE_*). */
export const AARCH64_MODES: Readonly<Record<number, string>> = field('MODE')[3]!;

export function decodePstate(value: bigint, register = 'PSTATE'): DecodedValue {
  const aarch32 = bit(value, 4) === 1;
  const mode = Number(fieldValue(value, field('MODE')));
  const modeName = aarch32 ? `AArch32 mode 0x${bits(value, 4, 0).toString(16)}` : (AARCH64_MODES[mode] ?? `reserved mode ${mode}`);
  const set = (names: string[]) => names.filter((n) => fieldValue(value, field(n)) === 1n).join('');
  const flags = set(['N', 'Z', 'C', 'V']) || '-';
  const masked = set(['D', 'A', 'I', 'F']) || 'none';
  const el = aarch32 ? undefined : mode >> 2;
  const where = el === 0 ? 'host user space (EL0): not in the guest' : el === 1 ? 'kernel level (EL1): inside the KVM guest for gVisor' : el !== undefined ? `EL${el}` : 'AArch32';
  if (aarch32) {
    // M[4] set: state saved from AArch32, whose bits below NZCV are laid out otherwise (E at 9, IT, GE, J):
    // the AArch64 layout would name them wrong, so only what both share is decoded.
    return {
      register,
      summary: `${modeName} · NZCV ${flags} · the other bits in the AArch32 layout, not decoded`,
      fields: [
        { name: 'M', value: modeName, meaning: 'M[4] set: saved from AArch32 state' },
        { name: 'NZCV', value: flags, meaning: 'condition flags that are set' },
      ],
    };
  }
  const others = decodeFields(PSTATE, value).filter((f) => !['MODE', 'N', 'Z', 'C', 'V', 'D', 'A', 'I', 'F'].includes(f.name));
  return {
    register,
    summary: `${modeName} · NZCV ${flags} · DAIF masked ${masked} · ${where}`,
    fields: [
      { name: 'M', value: modeName, meaning: where },
      { name: 'NZCV', value: flags, meaning: 'condition flags that are set' },
      { name: 'DAIF', value: masked, meaning: 'masked: D debug, A SError, I IRQ, F FIQ' },
      ...others,
    ],
  };
}

const ESR = SYSREG_LAYOUTS.ESR_ELx;

/** ESR_ELx.EC: the exception class, as the kernel names it (esr.h values, traps.c's esr_class_str). */
export const EXCEPTION_CLASSES: Readonly<Record<number, string>> = fieldOf(ESR, 'EC')![3]!;

export function decodeEsr(value: bigint, register = 'ESR_EL1'): DecodedValue {
  const ec = Number(fieldValue(value, fieldOf(ESR, 'EC')!));
  const il = fieldValue(value, fieldOf(ESR, 'IL')!);
  const meaning = EXCEPTION_CLASSES[ec];
  const fields: DecodedField[] = [
    { name: 'EC', value: `0x${ec.toString(16).padStart(2, '0')}`, meaning },
    { name: 'IL', value: String(il), meaning: il ? '32-bit instruction' : '16-bit instruction' },
    { name: 'ISS', value: `0x${fieldValue(value, fieldOf(ESR, 'ISS')!).toString(16)}` },
    { name: 'ISS2', value: `0x${fieldValue(value, fieldOf(ESR, 'ISS2')!).toString(16)}` },
  ];
  if (ec === 0x15 || ec === 0x11) fields.push({ name: 'imm16', value: `0x${bits(value, 15, 0).toString(16)}`, meaning: 'the SVC immediate' });
  if (ec === 0x24 || ec === 0x25 || ec === 0x20 || ec === 0x21) {
    fields.push({ name: 'FSC', value: `0x${bits(value, 5, 0).toString(16)}`, meaning: faultStatus(bits(value, 5, 0)) });
    if (ec === 0x24 || ec === 0x25) fields.push({ name: 'WnR', value: String(bit(value, 6)), meaning: bit(value, 6) ? 'write' : 'read' });
  }
  if (ec === 0x18) {
    const op0 = bits(value, 21, 20);
    const generic = `S${op0}_${bits(value, 16, 14)}_C${bits(value, 13, 10)}_C${bits(value, 4, 1)}_${bits(value, 19, 17)}`;
    if (op0 >= 2) {
      const field = ((op0 - 2) << 14) | (bits(value, 16, 14) << 11) | (bits(value, 13, 10) << 7) | (bits(value, 4, 1) << 3) | bits(value, 19, 17);
      fields.push({ name: 'sysreg', value: generic, meaning: `${bit(value, 0) ? 'read (MRS)' : 'write (MSR)'} of field ${field}` });
    } else {
      // Op0 0 and 1 are system instructions (SYS/SYSL: cache and TLB maintenance...), not register moves: no field (it came out negative).
      fields.push({ name: 'sysreg', value: generic, meaning: `system instruction (${bit(value, 0) ? 'SYSL' : 'SYS'}), not a register move` });
    }
  }
  return { register, summary: `EC 0x${ec.toString(16)}: ${meaning}`, fields };
}

function faultStatus(fsc: number): string {
  const level = fsc & 3;
  switch (fsc >> 2) {
    case 0b0001:
      return `translation fault, level ${level}`;
    case 0b0010:
      return `access flag fault, level ${level}`;
    case 0b0011:
      return `permission fault, level ${level}`;
    case 0b0000:
      return `address size fault, level ${level}`;
    default:
      return fsc === 0x10 ? 'synchronous external abort' : fsc === 0x21 ? 'alignment fault' : 'other fault';
  }
}

export function decodeCurrentEl(value: bigint): DecodedValue {
  const el = bits(value, 3, 2);
  return { register: 'CurrentEL', summary: `EL${el}`, fields: [{ name: 'EL', value: String(el), meaning: el === 0 ? 'user' : el === 1 ? 'kernel (the gVisor guest runs ring0 here)' : el === 2 ? 'hypervisor' : 'secure monitor' }] };
}

/** Any register Linux describes: its fields; the summary names the one-bit fields that are set. */
export function decodeWithLayout(value: bigint, register: string): DecodedValue | undefined {
  const found = layoutFor(register);
  if (!found) return undefined;
  const fields = decodeFields(found.layout, value);
  const on = found.layout.fields.filter(([msb, lsb]) => msb === lsb).filter((f) => fieldValue(value, f) === 1n).map((f) => f[2]).reverse(); // low bit first
  // Enumerated fields with a non-zero value, by their names (ID registers: which features).
  const named = fields.filter((f, i) => found.layout.fields[i][3] && f.value !== '0' && f.value !== '0x0' && /\(bits/.test(f.meaning ?? '')).map((f) => `${f.name}=${f.meaning!.replace(/ \(bits.*/, '')}`);
  const summary = [on.length ? `set: ${on.join(' ')}` : 'no one-bit field set', ...named].join(' · ');
  return { register: register.toUpperCase() === found.name.toUpperCase() ? found.name : register, summary, fields };
}

export function decodeSctlr(value: bigint, register = 'SCTLR_EL1'): DecodedValue {
  return decodeWithLayout(value, register)!;
}

/** MIDR_EL1: who made the CPU and which part it is (Linux's cputype.h names). */
export function decodeMidr(value: bigint): DecodedValue {
  const layout = SYSREG_LAYOUTS.MIDR_EL1;
  const get = (name: string) => Number(fieldValue(value, fieldOf(layout, name)!));
  const implementer = get('IMPLEMENTOR');
  const part = get('PARTNUM');
  const implementerName = MIDR_IMPLEMENTERS[implementer];
  const partName = MIDR_PARTS[implementer]?.[part];
  const fields = decodeFields(layout, value).map((f) =>
    f.name === 'IMPLEMENTOR' ? { ...f, meaning: implementerName ?? 'an implementer Linux does not name' } : f.name === 'PARTNUM' ? { ...f, meaning: partName ?? 'a part Linux does not name' } : f,
  );
  const who = `${implementerName ?? `implementer 0x${implementer.toString(16)}`} ${partName ?? `part 0x${part.toString(16)}`}`;
  return { register: 'MIDR_EL1', summary: `${who} r${get('VARIANT')}p${get('REVISION')}`, fields };
}

/** The decoder for a register's value, by register name, if we have one. */
export function valueDecoderFor(name: string): ((value: bigint) => DecodedValue) | undefined {
  const upper = name.toUpperCase();
  if (upper === 'PSTATE' || upper === 'CPSR' || /^SPSR_EL\d+$/.test(upper) || upper === 'DSPSR_EL0') return (v) => decodePstate(v, upper);
  if (/^ESR_EL\d+$/.test(upper)) return (v) => decodeEsr(v, upper);
  if (upper === 'CURRENTEL') return decodeCurrentEl;
  if (upper === 'MIDR_EL1') return decodeMidr;
  if (layoutFor(upper)) return (v) => decodeWithLayout(v, name)!;
  return undefined;
}
