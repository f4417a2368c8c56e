// Decodes the fields of register values a user meets while debugging the bluepill:
// PSTATE/SPSR (is this host EL0 or guest EL1?), ESR_EL1 (why did the guest trap?),
// CurrentEL and SCTLR_EL1. Bit positions are the Arm ARM's; the words are ours.

export interface DecodedField {
  name: string;
  value: string;
  meaning?: string;
}

export interface DecodedValue {
  register: string;
  summary: string;
  fields: DecodedField[];
}

const bit = (v: bigint, n: number) => Number((v >> BigInt(n)) & 1n);
const bits = (v: bigint, hi: number, lo: number) => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));

/** PSTATE.M[3:0] for AArch64: the exception level and which stack pointer it uses. */
export const AARCH64_MODES: Record<number, string> = { 0b0000: 'EL0t', 0b0100: 'EL1t', 0b0101: 'EL1h', 0b1000: 'EL2t', 0b1001: 'EL2h', 0b1100: 'EL3t', 0b1101: 'EL3h' };

export function decodePstate(value: bigint, register = 'PSTATE'): DecodedValue {
  const aarch32 = bit(value, 4) === 1;
  const mode = bits(value, 3, 0);
  const modeName = aarch32 ? `AArch32 mode 0x${bits(value, 4, 0).toString(16)}` : (AARCH64_MODES[mode] ?? `reserved mode ${mode}`);
  const flags = ['N', 'Z', 'C', 'V'].filter((_, i) => bit(value, 31 - i)).join('') || '-';
  const masked = ['D', 'A', 'I', 'F'].filter((_, i) => bit(value, 9 - i)).join('') || 'none';
  const el = aarch32 ? undefined : mode >> 2;
  const where = el === 0 ? 'host user space (EL0): not in the guest' : el === 1 ? 'kernel level (EL1): inside the KVM guest for gVisor' : el !== undefined ? `EL${el}` : 'AArch32';
  return {
    register,
    summary: `${modeName} · NZCV ${flags} · DAIF masked ${masked} · ${where}`,
    fields: [
      { name: 'M', value: modeName, meaning: where },
      { name: 'NZCV', value: flags, meaning: 'condition flags that are set' },
      { name: 'DAIF', value: masked, meaning: 'masked: D debug, A SError, I IRQ, F FIQ' },
      { name: 'SS', value: String(bit(value, 21)), meaning: 'software step pending' },
      { name: 'IL', value: String(bit(value, 20)), meaning: 'illegal execution state' },
      { name: 'PAN', value: String(bit(value, 22)) },
      { name: 'UAO', value: String(bit(value, 23)) },
      { name: 'SSBS', value: String(bit(value, 12)) },
      { name: 'BTYPE', value: String(bits(value, 11, 10)) },
    ],
  };
}

/** ESR_ELx.EC: the exception class, in words. */
export const EXCEPTION_CLASSES: Record<number, string> = {
  0x00: 'unknown reason (an undefined or trapped instruction, e.g. an MRS of a register this level may not read)',
  0x01: 'WFI or WFE trapped',
  0x03: 'AArch32 MCR/MRC (coprocessor 15) trapped',
  0x04: 'AArch32 MCRR/MRRC (coprocessor 15) trapped',
  0x05: 'AArch32 MCR/MRC (coprocessor 14) trapped',
  0x06: 'AArch32 LDC/STC trapped',
  0x07: 'SVE, SIMD or floating point access trapped',
  0x0a: 'LD64B/ST64B trapped',
  0x0c: 'AArch32 MRRC (coprocessor 14) trapped',
  0x0d: 'branch target exception (BTI)',
  0x0e: 'illegal execution state',
  0x11: 'SVC from AArch32',
  0x12: 'HVC from AArch32',
  0x13: 'SMC from AArch32',
  0x15: 'SVC from AArch64 (a system call: in gVisor, the guest application calling the Sentry)',
  0x16: 'HVC from AArch64 (a hypervisor call)',
  0x17: 'SMC from AArch64 (a secure monitor call)',
  0x18: 'MSR, MRS or system instruction trapped',
  0x19: 'SVE access trapped',
  0x1a: 'ERET trapped (nested virtualization)',
  0x1b: 'TSTART trapped',
  0x1c: 'pointer authentication failure',
  0x1d: 'SME access trapped',
  0x1e: 'granule protection check',
  0x20: 'instruction abort from a lower level (a page fault on fetch)',
  0x21: 'instruction abort at the same level',
  0x22: 'PC alignment fault',
  0x24: 'data abort from a lower level (a page fault on load/store)',
  0x25: 'data abort at the same level',
  0x26: 'SP alignment fault',
  0x27: 'memory operation exception',
  0x28: 'AArch32 floating point exception',
  0x2c: 'AArch64 floating point exception',
  0x2d: 'GCS exception',
  0x2f: 'SError interrupt',
  0x30: 'breakpoint from a lower level',
  0x31: 'breakpoint at the same level',
  0x32: 'software step from a lower level',
  0x33: 'software step at the same level',
  0x34: 'watchpoint from a lower level',
  0x35: 'watchpoint at the same level',
  0x38: 'AArch32 BKPT',
  0x3a: 'vector catch (AArch32)',
  0x3c: 'BRK instruction (AArch64 software breakpoint)',
  0x3d: 'profiling exception',
};

export function decodeEsr(value: bigint, register = 'ESR_EL1'): DecodedValue {
  const ec = bits(value, 31, 26);
  const iss = bits(value, 24, 0);
  const meaning = EXCEPTION_CLASSES[ec] ?? 'reserved or unallocated exception class';
  const fields: DecodedField[] = [
    { name: 'EC', value: `0x${ec.toString(16).padStart(2, '0')}`, meaning },
    { name: 'IL', value: String(bit(value, 25)), meaning: bit(value, 25) ? '32-bit instruction' : '16-bit instruction' },
    { name: 'ISS', value: `0x${iss.toString(16)}` },
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

const SCTLR_BITS: Array<[number, string, string]> = [
  [0, 'M', 'MMU on'],
  [1, 'A', 'alignment checking'],
  [2, 'C', 'data cache on'],
  [3, 'SA', 'SP alignment check at EL1'],
  [4, 'SA0', 'SP alignment check at EL0'],
  [9, 'UMA', 'EL0 may change DAIF'],
  [12, 'I', 'instruction cache on'],
  [14, 'DZE', 'EL0 may use DC ZVA'],
  [15, 'UCT', 'EL0 may read CTR_EL0'],
  [16, 'nTWI', 'WFI at EL0 does not trap'],
  [18, 'nTWE', 'WFE at EL0 does not trap'],
  [19, 'WXN', 'writable memory is never executable'],
  [23, 'SPAN', 'PAN is not set on exception entry'],
  [25, 'EE', 'big-endian at EL1'],
  [26, 'UCI', 'EL0 may run cache maintenance'],
  [31, 'EnIA', 'pointer authentication with key IA'],
];

export function decodeSctlr(value: bigint, register = 'SCTLR_EL1'): DecodedValue {
  const fields = SCTLR_BITS.map(([n, name, meaning]) => ({ name, value: String(bit(value, n)), meaning }));
  const on = fields.filter((f) => f.value === '1').map((f) => f.name);
  return { register, summary: on.length ? `set: ${on.join(' ')}` : 'no main bit set', fields };
}

/** The decoder for a register's value, by register name, if we have one. */
export function valueDecoderFor(name: string): ((value: bigint) => DecodedValue) | undefined {
  const upper = name.toUpperCase();
  if (upper === 'PSTATE' || upper === 'CPSR' || /^SPSR_EL\d+$/.test(upper) || upper === 'DSPSR_EL0') return (v) => decodePstate(v, upper);
  if (/^ESR_EL\d+$/.test(upper)) return (v) => decodeEsr(v, upper);
  if (upper === 'CURRENTEL') return decodeCurrentEl;
  if (/^SCTLR_EL(1|12)$/.test(upper)) return (v) => decodeSctlr(v, upper);
  return undefined;
}
