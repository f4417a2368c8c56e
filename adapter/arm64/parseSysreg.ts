// One decoder for every way a system register is spelled: Go's decimal field
// (`$18052`, `18052`), the generic name (`S3_0_C13_C0_4`, any case), the register
// name (`TPIDR_EL1`), an instruction word (`0xd538d092`), dlv's instructionBytes
// (`92d038d5`, memory order), and whole instructions in Go or GNU syntax
// (`MRS $18052, R18`, `MSR R10, S3_0_C13_C0_4`, `MSR $2, DAIFSet`, `mrs x18, tpidr_el1`).
import { decodeMoveWord, fieldFrom } from './encoding';
import { fieldByName, pstateField, pstateFieldByName } from './sysregs';

export type ParsedSysreg =
  | { kind: 'sysreg'; field: number; direction?: 'mrs' | 'msr'; rt?: number; spelling: string; alsoAsWord?: number }
  | { kind: 'pstate'; name: string; imm?: number; spelling: string; alsoAsWord?: number };

export class SysregParseError extends Error {}

const GENERIC = /^S([23])_([0-7])_C(\d{1,2})_C(\d{1,2})_([0-7])$/i;
// R0-R30, X0-X30, W0-W30 and the zero register as each syntax spells it (Go: ZR or RZR; GNU: xzr, wzr).
// "R99" is no register: it gave rt 99.
const GPR = /^(?:[RXW](\d|[12]\d|30|ZR)|ZR)$/i;

export function parseSysreg(input: string): ParsedSysreg {
  const text = input.trim();
  const instruction = /^(MRS|MSR)\s+(.+?)\s*,\s*(.+?)\s*$/i.exec(text);
  if (instruction) return parseInstruction(instruction[1].toUpperCase() as 'MRS' | 'MSR', instruction[2], instruction[3], text);
  const operand = parseOperand(text);
  if (operand !== undefined) return { kind: 'sysreg', field: operand, spelling: text };
  const word = parseWord(text);
  if (word) return word;
  const pstate = pstateFieldByName(text);
  if (pstate) return { kind: 'pstate', name: pstate, spelling: text };
  throw new SysregParseError(
    `"${input}" is not a system register spelling I know. Try a field like $18052, a generic name like S3_0_C13_C0_4, ` +
      'a name like TPIDR_EL1, an instruction word like 0xd538d092, dlv\'s bytes like 92d038d5, or an instruction like "MRS $18052, R18".',
  );
}

/** A single operand naming a register (no instruction words): field, generic or name. */
export function parseOperand(text: string): number | undefined {
  const t = text.trim();
  const decimal = /^\$?(\d{1,5})$/.exec(t);
  if (decimal) {
    const field = Number(decimal[1]);
    return field < 1 << 15 ? field : undefined;
  }
  const generic = GENERIC.exec(t);
  if (generic) {
    const [op0, op1, crn, crm, op2] = generic.slice(1).map(Number);
    return crn < 16 && crm < 16 ? fieldFrom({ op0, op1, crn, crm, op2 }) : undefined;
  }
  return fieldByName(t);
}

function decodeWordAs(word: number, text: string): ParsedSysreg | undefined {
  const move = decodeMoveWord(word);
  if (!move) return undefined;
  if (move.kind !== 'msr-imm') return { kind: 'sysreg', field: move.field, direction: move.kind, rt: move.rt, spelling: text };
  const name = pstateField(move.op1, move.op2, move.crm);
  return name ? { kind: 'pstate', name, imm: move.crm, spelling: text } : undefined;
}

function parseWord(text: string): ParsedSysreg | undefined {
  const hex = /^(0x)?([0-9a-f]{8})$/i.exec(text);
  if (!hex) return undefined;
  const value = parseInt(hex[2], 16) >>> 0;
  // With 0x it is a word; bare, it is most likely dlv's bytes in memory order (and where it
  // decodes as a word too, the caller says so: alsoAsWord).
  const decoded = (hex[1] ? [value] : [swap32(value), value]).map((word) => decodeWordAs(word, text)).filter((p) => p !== undefined);
  if (decoded.length) return decoded.length > 1 ? { ...decoded[0], alsoAsWord: value } : decoded[0];
  throw new SysregParseError(`0x${value.toString(16).padStart(8, '0')} is not an MRS or MSR instruction (read either way round).`);
}

function parseInstruction(mnemonic: 'MRS' | 'MSR', first: string, second: string, spelling: string): ParsedSysreg {
  const firstIsGpr = GPR.test(first);
  const secondIsGpr = GPR.test(second);
  // MSR (immediate): Go's MSR $2, DAIFSet, or GNU's msr daifset, #2 (in Go, a $ last is a register field: MSR R10, $18052).
  const immediate = mnemonic === 'MSR' ? (/^[#$]/.test(first) ? [first, second] : /^#/.test(second) ? [second, first] : undefined) : undefined;
  if (immediate) {
    const [immText, fieldText] = immediate;
    const name = pstateFieldByName(fieldText);
    if (!name) throw new SysregParseError(`"${fieldText}" is not a PSTATE field that MSR (immediate) can write.`);
    // The immediate is the 4-bit CRm field: "#x" or "$99" would otherwise come back as NaN or 99.
    const imm = /^[#$](0x[0-9a-f]+|\d+)$/i.test(immText) ? Number(immText.slice(1)) : NaN;
    if (!(imm >= 0 && imm <= 15)) throw new SysregParseError(`"${immText}" is not an MSR (immediate) value: it takes #0 to #15.`);
    return { kind: 'pstate', name, imm, spelling };
  }
  // Go puts the destination last (MRS $f, R18; MSR R10, S3_...); GNU puts it first (mrs x18, reg; msr reg, x10).
  const registerText = firstIsGpr && !secondIsGpr ? second : secondIsGpr && !firstIsGpr ? first : undefined;
  const gprText = registerText === second ? first : second;
  const field = registerText !== undefined ? parseOperand(registerText) : undefined;
  if (field === undefined) throw new SysregParseError(`Cannot find the system register in "${spelling}".`);
  const rt = /ZR$/i.test(gprText) ? 31 : Number(GPR.exec(gprText)![1]);
  return { kind: 'sysreg', field, direction: mnemonic === 'MRS' ? 'mrs' : 'msr', rt, spelling };
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
