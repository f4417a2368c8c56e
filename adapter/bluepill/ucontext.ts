// The Linux signal ucontext, as the proxy reads it with dlv: one evaluate of a run
// of 64-bit words, decoded here. Offsets from the kernel's uapi headers:
// arm64 uc_mcontext at 176 (fault_address, regs[31], sp, pc, pstate);
// amd64 uc_mcontext.gregs at 40 (R8..R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP, RIP, EFL, CSGSFS, ERR, TRAPNO, OLDMASK, CR2).
import { AARCH64_MODES } from '../arm64/valueFields';

export interface UcontextLayout {
  arch: 'arm64' | 'amd64';
  /** Offset of the first word read, and how many. */
  offset: number;
  words: number;
}

export const UCONTEXT_LAYOUTS: Record<'arm64' | 'amd64', UcontextLayout> = {
  arm64: { arch: 'arm64', offset: 176, words: 35 },
  amd64: { arch: 'amd64', offset: 40, words: 23 },
};

export interface DecodedUcontext {
  address: string;
  pc: bigint;
  sp: bigint;
  /** arm64: X30; amd64: none (the return address is on the stack). */
  lr?: bigint;
  /** The frame pointer: arm64 X29, amd64 RBP. */
  fp: bigint;
  /** arm64 PSTATE / amd64 EFLAGS. */
  flags: bigint;
  /** EL0t / EL1t / EL1h on arm64; ring 3 / ring 0 on amd64. */
  mode: string;
  /** True when the interrupted code was host user space (EL0 / ring 3). */
  host: boolean;
  faultAddress: bigint;
  /** The syscall number register: X8 or RAX. */
  syscallNumber: bigint;
}


/** Parses dlv's rendering of a uint64 array: "[830160,536870912,...]" (decimal or 0x). */
export function parseWordArray(result: string): bigint[] | undefined {
  const m = /\[([^\]]*)\]\s*$/.exec(result.trim());
  if (!m) return undefined;
  const parts = m[1].split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.some((p) => !/^(0x[0-9a-f]+|\d+)$/i.test(p))) return undefined;
  return parts.map((p) => BigInt(p));
}

export function decodeUcontext(layout: UcontextLayout, pointer: bigint, words: bigint[]): DecodedUcontext | undefined {
  if (words.length < layout.words) return undefined;
  const address = `0x${pointer.toString(16)}`;
  if (layout.arch === 'arm64') {
    const pstate = words[34];
    const mode = (pstate & 0x10n) !== 0n ? 'AArch32' : (AARCH64_MODES[Number(pstate & 0xfn)] ?? `M=${pstate & 0xfn}`);
    return { address, faultAddress: words[0], fp: words[30], lr: words[31], sp: words[32], pc: words[33], flags: pstate, mode, host: mode === 'EL0t', syscallNumber: words[9] };
  }
  const cs = words[18] & 0xffffn;
  const ring = Number(cs & 3n);
  return { address, faultAddress: words[22], fp: words[10], sp: words[15], pc: words[16], flags: words[17], mode: `ring ${ring} (CS 0x${cs.toString(16)})`, host: ring === 3, syscallNumber: words[13] };
}
