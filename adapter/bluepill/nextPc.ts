// Where a thread can be after one instruction, from the instruction's bytes alone:
// the next instruction, or the target of a direct branch or call, and how the stack
// pointer moves where that is fixed (a call pushes the return address on amd64).
// Only encodings decoded here with certainty count; anything else (an indirect jump,
// a return on arm64, a prefix) is undefined, and the caller asks the debugger.

export interface NextPcs {
  /** Every PC the thread may be at next; empty when only `spDelta` says (amd64 RET: the target is on the stack). */
  pcs: bigint[];
  /** How SP changes on the way to those PCs, where the instruction fixes it (CALL, RET). */
  spDelta?: bigint;
}

const signed8 = (b: number) => BigInt(b << 24 >> 24);
const signed32 = (buf: Buffer, at: number) => BigInt(buf.readInt32LE(at));

function amd64(pc: bigint, code: Buffer): NextPcs | undefined {
  const next = pc + BigInt(code.length);
  const op = code[0];
  if (code.length === 5 && op === 0xe8) return { pcs: [next + signed32(code, 1)], spDelta: -8n }; // CALL rel32
  if (code.length === 5 && op === 0xe9) return { pcs: [next + signed32(code, 1)] }; // JMP rel32
  if (code.length === 2 && op === 0xeb) return { pcs: [next + signed8(code[1])] }; // JMP rel8
  if (code.length === 2 && op >= 0x70 && op <= 0x7f) return { pcs: [next, next + signed8(code[1])] }; // Jcc rel8
  if (code.length === 6 && op === 0x0f && code[1] >= 0x80 && code[1] <= 0x8f) return { pcs: [next, next + signed32(code, 2)] }; // Jcc rel32
  if (code.length === 1 && op === 0xc3) return { pcs: [], spDelta: 8n }; // RET
  return undefined;
}

function arm64(pc: bigint, code: Buffer): NextPcs | undefined {
  if (code.length !== 4) return undefined;
  const w = code.readUInt32LE(0);
  const next = pc + 4n;
  const offset = (bits: number, shift: number) => BigInt(((w >>> shift) & ((1 << bits) - 1)) << (32 - bits) >> (32 - bits)) * 4n;
  if ((w & 0xfc000000) >>> 0 === 0x14000000) return { pcs: [pc + offset(26, 0)] }; // B
  if ((w & 0xfc000000) >>> 0 === 0x94000000) return { pcs: [pc + offset(26, 0)], spDelta: 0n }; // BL
  if ((w & 0xff000010) >>> 0 === 0x54000000) return { pcs: [next, pc + offset(19, 5)] }; // B.cond
  if ((w & 0x7e000000) >>> 0 === 0x34000000) return { pcs: [next, pc + offset(19, 5)] }; // CBZ, CBNZ
  if ((w & 0x7e000000) >>> 0 === 0x36000000) return { pcs: [next, pc + offset(14, 5)] }; // TBZ, TBNZ
  return undefined;
}

/**
 * The PCs a thread may be at after the instruction at `pc` runs once. `transfers` says
 * whether the instruction may go elsewhere than the next one (from its text): such an
 * instruction must be one decoded here; any other simply goes on to the next.
 */
export function nextPcs(arch: 'amd64' | 'arm64', pc: bigint, bytesHex: string, transfers: boolean): NextPcs | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(bytesHex)) return undefined;
  const code = Buffer.from(bytesHex, 'hex');
  if (!transfers) return { pcs: [pc + BigInt(code.length)] };
  return arch === 'amd64' ? amd64(pc, code) : arm64(pc, code);
}

/** Whether a thread seen at (pc0, sp0) before one instruction and at (pc1, sp1) after it agrees with `next`. */
export function agrees(next: NextPcs, sp0: bigint, pc1: bigint, sp1: bigint): boolean {
  if (next.spDelta !== undefined && sp1 !== sp0 + next.spDelta) return false;
  // A return goes where the stack says: the SP is the check (and the thread must have moved).
  if (next.pcs.length === 0) return next.spDelta !== undefined && next.spDelta !== 0n;
  return next.pcs.includes(pc1);
}
