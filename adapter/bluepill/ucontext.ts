// The Linux signal ucontext, as the proxy reads it with dlv: one read of a run of
// 64-bit words from uc_sigmask or uc_mcontext on, decoded here. Offsets from the kernel's
// uapi headers, the same as gVisor's arch.UContext64 (pkg/sentry/arch/signal_{arm64,amd64}.go):
// arm64 uc_sigmask at 40, uc_mcontext at 176 (fault_address, regs[31], sp, pc, pstate);
// amd64 uc_mcontext.gregs at 40 (R8..R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP, RIP, EFL, CSGSFS, ERR, TRAPNO, OLDMASK, CR2),
// uc_sigmask at 296 (after the 256-byte sigcontext).
import { AARCH64_MODES } from '../arm64/valueFields';

export interface UcontextLayout {
  arch: 'arm64' | 'amd64';
  /** Offset of the first word read, and how many. */
  offset: number;
  words: number;
}

/** Both read from byte 40: arm64 up to pstate (word 17 is uc_mcontext), amd64 up to uc_sigmask (word 32). */
export const UCONTEXT_LAYOUTS: Record<'arm64' | 'amd64', UcontextLayout> = {
  arm64: { arch: 'arm64', offset: 40, words: 52 },
  amd64: { arch: 'amd64', offset: 40, words: 33 },
};
const ARM64_MCONTEXT_WORD = (176 - 40) / 8;
const AMD64_SIGMASK_WORD = (296 - 40) / 8;

/**
 * Linux's signal numbers 1-31, the same on arm64 and amd64 (asm-generic and x86 signal.h;
 * gVisor's pkg/abi/linux/signal.go, checked against it by test/runsc/guestCode.test.ts).
 */
export const SIGNAL_NAMES: readonly string[] = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM',
  'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** The signals a mask blocks, in words: "none", "all" (every bit, as gVisor's bluepill sets it), or the names. */
export function describeSignalMask(mask: bigint): string {
  if (mask === 0n) return 'none blocked';
  if (mask === 0xffffffffffffffffn) return 'all blocked';
  const names: string[] = [];
  for (let signal = 1; signal <= 64; signal++) {
    if ((mask >> BigInt(signal - 1)) & 1n) names.push(signal < SIGNAL_NAMES.length ? SIGNAL_NAMES[signal] : `SIGRT${signal - 32}`);
  }
  return `${names.length} blocked: ${names.join(', ')}`;
}

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
  /** uc_sigmask: the signals blocked in the interrupted code, restored by rt_sigreturn. */
  sigmask: bigint;
  /** The general registers by dlv's names: X0–X30 (arm64), R8–R15 (amd64): the die path's R9–R14. */
  registers: Readonly<Record<string, bigint>>;
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
    const m = words.slice(ARM64_MCONTEXT_WORD);
    const pstate = m[34];
    const mode = (pstate & 0x10n) !== 0n ? 'AArch32' : (AARCH64_MODES[Number(pstate & 0xfn)] ?? `M=${pstate & 0xfn}`);
    const registers = Object.fromEntries(m.slice(1, 32).map((v, i) => [`X${i}`, v]));
    return { address, faultAddress: m[0], fp: m[30], lr: m[31], sp: m[32], pc: m[33], flags: pstate, mode, host: mode === 'EL0t', syscallNumber: m[9], sigmask: words[0], registers };
  }
  const cs = words[18] & 0xffffn;
  const ring = Number(cs & 3n);
  // gregs begin with R8–R15 (REG_R8 = 0 in Linux's sys/ucontext.h order).
  const registers = Object.fromEntries(words.slice(0, 8).map((v, i) => [`R${i + 8}`, v]));
  return { address, faultAddress: words[22], fp: words[10], sp: words[15], pc: words[16], flags: words[17], mode: `ring ${ring} (CS 0x${cs.toString(16)})`, host: ring === 3, syscallNumber: words[13], sigmask: words[AMD64_SIGMASK_WORD], registers };
}
