// Unwinds the stack a signal interrupted, from the registers its ucontext saved, by
// frame pointers: the only unwinding that needs nothing but memory (no DWARF CFI), and
// the one Go keeps on arm64 and amd64. Pure: memory comes through a reader, symbols
// through a callback, so a unit test can feed it any stack, garbage included.
//
// Frame records, on both architectures and in Go and C alike: [FP] holds the caller's
// FP, [FP+8] the return address. The interrupted function itself may have no record
// (a leaf, or a PC still in its prologue): its return address is then in LR (arm64)
// or on top of the stack (amd64), and FP is still its caller's.

export interface StackMemory {
  /** `count` little-endian 64-bit words at `address`, or undefined when unreadable. */
  words(address: bigint, count: number): Promise<bigint[] | undefined>;
}

export interface InterruptedRegisters {
  arch: 'arm64' | 'amd64';
  pc: bigint;
  sp: bigint;
  /** arm64 X29, amd64 RBP. */
  fp: bigint;
  /** arm64 X30; none on amd64. */
  lr?: bigint;
}

export interface UnwindOptions {
  /** At most this many frames (the interrupted one included). */
  maxFrames?: number;
  /** A frame record further than this above the interrupted SP is not on its stack. */
  maxStackBytes?: bigint;
  /** The start of the function holding `pc`, when symbols say; undefined when they do not know it. */
  functionStart?: (pc: bigint) => bigint | undefined;
  /** Whether a return address is code (symbols or the debugger know it): a record whose is not is garbage. */
  isCode?: (pc: bigint) => boolean | Promise<boolean>;
}

/** Where a frame's PC came from. */
export type FrameOrigin = 'context pc' | 'link register' | 'stack top' | 'frame record';

export interface UnwoundFrame {
  pc: bigint;
  from: FrameOrigin;
}

export interface Unwound {
  frames: UnwoundFrame[];
  /** Why the walk ended, in words for the user. */
  end: string;
}

export const DEFAULT_MAX_FRAMES = 32;
/** Larger than a thread's default 8 MiB stack; Go's goroutine stacks are smaller still. */
export const DEFAULT_MAX_STACK_BYTES = 16n << 20n;
const MASK64 = (1n << 64n) - 1n;

/**
 * Removes pointer-authentication bits from an arm64 code address: the bits above the
 * virtual address size take the value of bit 55 (as XPACI does), so user addresses
 * (bit 55 clear) come out with the top bits clear, kernel ones with them set.
 */
export function stripPointerAuth(address: bigint, vaBits = 48): bigint {
  const high = MASK64 ^ ((1n << BigInt(vaBits)) - 1n);
  return (address & (1n << 55n)) !== 0n ? (address | high) & MASK64 : address & ~high & MASK64;
}

export async function unwindFramePointers(regs: InterruptedRegisters, memory: StackMemory, options: UnwindOptions = {}): Promise<Unwound> {
  const maxFrames = options.maxFrames ?? DEFAULT_MAX_FRAMES;
  const maxStack = options.maxStackBytes ?? DEFAULT_MAX_STACK_BYTES;
  const code = (a: bigint) => (regs.arch === 'arm64' ? stripPointerAuth(a) : a);
  const frames: UnwoundFrame[] = [{ pc: code(regs.pc), from: 'context pc' }];
  // arm64 Go keeps its record 8 bytes below SP (MOVD R29, -8(RSP)): allow a little below.
  const lowest = regs.sp - 16n;
  const onStack = (fp: bigint) => fp >= lowest && fp - regs.sp <= maxStack && fp % 8n === 0n;

  let fp = regs.fp;
  let record = fp !== 0n && onStack(fp) ? await memory.words(fp, 2) : undefined;

  // The interrupted function's own return address, when it has no record of its own yet.
  const leafReturn = regs.arch === 'arm64' ? (regs.lr !== undefined ? code(regs.lr) : undefined) : (await memory.words(regs.sp, 1))?.[0];
  if (leafReturn !== undefined && leafReturn !== 0n && (!record || code(record[1]) !== leafReturn) && isCallerOf(leafReturn, frames[0].pc, regs.arch, options.functionStart)) {
    frames.push({ pc: leafReturn, from: regs.arch === 'arm64' ? 'link register' : 'stack top' });
  }

  for (;;) {
    if (frames.length >= maxFrames) return { frames, end: `stopped at ${maxFrames} frames` };
    if (fp === 0n) return { frames, end: 'the frame pointer is 0: the outermost frame' };
    if (!onStack(fp)) return { frames, end: `the frame pointer 0x${fp.toString(16)} is not on the interrupted stack` };
    if (!record) return { frames, end: `the frame record at 0x${fp.toString(16)} is not readable` };
    const [callerFp, returnAddress] = [record[0], code(record[1])];
    if (returnAddress === 0n) return { frames, end: 'the return address is 0: the outermost frame' };
    if (options.isCode && !(await options.isCode(returnAddress))) return { frames, end: `the return address 0x${returnAddress.toString(16)} in the record at 0x${fp.toString(16)} is not code` };
    frames.push({ pc: returnAddress, from: 'frame record' });
    if (callerFp === 0n) return { frames, end: 'the frame pointer is 0: the outermost frame' };
    // Callers' records lie higher on the stack: anything else is garbage or a loop.
    if (callerFp <= fp) return { frames, end: `the next frame pointer 0x${callerFp.toString(16)} is not above 0x${fp.toString(16)}` };
    fp = callerFp;
    record = onStack(fp) ? await memory.words(fp, 2) : undefined;
  }
}

/**
 * Whether `candidate` (LR, or the word on top of the stack) is the interrupted
 * function's return address: code of another function. Without symbols, LR is
 * trusted and a stack word is not (it may be any data).
 */
function isCallerOf(candidate: bigint, pc: bigint, arch: 'arm64' | 'amd64', functionStart: UnwindOptions['functionStart']): boolean {
  const known = functionStart?.(candidate);
  if (known === undefined) return arch === 'arm64' && functionStart === undefined;
  return known !== functionStart?.(pc);
}
