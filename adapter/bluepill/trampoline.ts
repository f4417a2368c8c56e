// Is the code at a PC the rt_sigreturn trampoline? Only the whole two-instruction sequence
// says so (ARM64 MOVZ X8, #139; SVC #0 — amd64 MOV RAX, 15; SYSCALL): a guest exit can
// resume the host at any other SVC/SYSCALL without a symbol, e.g. the system call fallback of
// the vDSO's clock_gettime (MOV X8, #113; SVC #0), and that one is a system call, not a sigreturn.
import { AMD64_SIGRETURN_BYTES, ARM64_SIGRETURN_WORDS, le32 } from './model';

const SEQUENCES = {
  arm64: { code: Buffer.from(ARM64_SIGRETURN_WORDS.map(le32).join(''), 'hex'), starts: [0, 4] },
  amd64: { code: Buffer.from(AMD64_SIGRETURN_BYTES, 'hex'), starts: [0, 7] },
} as const;

/** Reads `count` bytes of code at `address`; undefined where it cannot. */
export type CodeReader = (address: bigint, count: number) => Promise<Buffer | undefined>;

/** Where the trampoline would begin if `pc` were one of its instructions. */
export function trampolineStarts(arch: 'arm64' | 'amd64', pc: bigint): bigint[] {
  return SEQUENCES[arch].starts.map((offset) => pc - BigInt(offset)).filter((start) => start >= 0n);
}

/** Whether `code` (read from a candidate start) is the whole trampoline. */
export function isTrampolineCode(arch: 'arm64' | 'amd64', code: Buffer | undefined): boolean {
  const pattern = SEQUENCES[arch].code;
  return code !== undefined && code.length >= pattern.length && code.subarray(0, pattern.length).equals(pattern);
}

/** Whether the instruction at `pc` is the first or the last of the trampoline, the sequence read whole. */
export async function isTrampolineAt(arch: 'arm64' | 'amd64', pc: bigint, read: CodeReader): Promise<boolean> {
  for (const start of trampolineStarts(arch, pc)) {
    if (isTrampolineCode(arch, await read(start, SEQUENCES[arch].code.length))) return true;
  }
  return false;
}
