// Decodes the few instructions found where dlv cannot disassemble (code without a
// symbol: the vDSO, a trampoline page), in Go syntax like dlv's. Anything else is
// shown as a raw WORD/BYTE, never guessed.
import { decodeMoveWord } from '../arm64/encoding';
import { nameFor, pstateField } from '../arm64/sysregs';

export interface DecodedInstruction {
  address: bigint;
  bytes: Buffer;
  text: string;
}

export function decodeArm64(address: bigint, code: Buffer): DecodedInstruction[] {
  const out: DecodedInstruction[] = [];
  for (let o = 0; o + 4 <= code.length; o += 4) {
    const word = code.readUInt32LE(o);
    out.push({ address: address + BigInt(o), bytes: code.subarray(o, o + 4), text: arm64Text(word, address + BigInt(o)) });
  }
  return out;
}

/** One ARM64 word in Go syntax; branch targets are named by `symbolOf` when given. */
export function arm64Text(w: number, pc: bigint, symbolOf?: (address: bigint) => string | undefined): string {
  if (w === 0xd65f03c0) return 'RET';
  if (w === 0xd503201f) return 'NOOP';
  if ((w & 0xffe0001f) >>> 0 === 0xd4000001) return `SVC $${(w >>> 5) & 0xffff}`;
  if ((w & 0xffe0001f) >>> 0 === 0xd4200000) return `BRK $${(w >>> 5) & 0xffff}`;
  if ((w & 0x7f800000) >>> 0 === 0x52800000) {
    // MOVZ: sf=1 for X registers; hw selects the shift.
    const rd = w & 31;
    const imm = BigInt((w >>> 5) & 0xffff) << BigInt(((w >>> 21) & 3) * 16);
    return `MOVD $${imm}, R${rd}`;
  }
  if ((w & 0x7c000000) >>> 0 === 0x14000000) {
    const offset = BigInt.asIntN(28, BigInt((w & 0x3ffffff) << 2 >>> 0) & 0xfffffffn);
    const target = pc + offset;
    const name = symbolOf?.(target);
    return `${w & 0x80000000 ? 'CALL' : 'JMP'} ${name ? `${name}(SB)` : `0x${target.toString(16)}`}`;
  }
  const move = decodeMoveWord(w);
  if (move?.kind === 'mrs') return `MRS $${move.field}, R${move.rt}`;
  if (move?.kind === 'msr') return `MSR R${move.rt}, ${nameFor(move.field, 'msr')}`;
  if (move?.kind === 'msr-imm') return `MSR $${move.crm}, ${pstateField(move.op1, move.op2, move.crm) ?? 'PSTATE'}`;
  return `WORD $0x${w.toString(16).padStart(8, '0')}`;
}

/** amd64: only the rt_sigreturn trampoline, CALL/JMP rel32 and a few short instructions (the traps among them); other bytes stay raw. */
export function decodeAmd64(address: bigint, code: Buffer, symbolOf?: (address: bigint) => string | undefined): DecodedInstruction[] {
  const out: DecodedInstruction[] = [];
  let o = 0;
  const push = (length: number, text: string) => {
    out.push({ address: address + BigInt(o), bytes: code.subarray(o, o + length), text });
    o += length;
  };
  while (o < code.length) {
    if (code[o] === 0x48 && code[o + 1] === 0xc7 && code[o + 2] === 0xc0 && o + 7 <= code.length) push(7, `MOVQ $${code.readInt32LE(o + 3)}, AX`);
    else if (code[o] === 0x0f && code[o + 1] === 0x05) push(2, 'SYSCALL');
    else if ((code[o] === 0xe8 || code[o] === 0xe9) && o + 5 <= code.length) {
      const target = address + BigInt(o + 5) + BigInt(code.readInt32LE(o + 1));
      const name = symbolOf?.(target);
      push(5, `${code[o] === 0xe8 ? 'CALL' : 'JMP'} ${name ? `${name}(SB)` : `0x${target.toString(16)}`}`);
    }
    else if (code[o] === 0xc3) push(1, 'RET');
    else if (code[o] === 0x90) push(1, 'NOPL');
    else if (code[o] === 0xcc) push(1, 'INT $3');
    else if (code[o] === 0xfa) push(1, 'CLI');
    else if (code[o] === 0xfb) push(1, 'STI');
    else if (code[o] === 0xf4) push(1, 'HLT');
    else if (code[o] === 0x0f && code[o + 1] === 0x0b) push(2, 'UD2');
    else push(1, `BYTE $0x${code[o].toString(16).padStart(2, '0')}`);
  }
  return out;
}
