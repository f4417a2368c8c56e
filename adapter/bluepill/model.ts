// The bluepill round trip, as data: for each variant of gVisor's KVM platform, the
// landmarks (by symbol and by instruction pattern, never by address) and the phase
// a thread is in when it stops there. Facts from gVisor's sources
// (pkg/sentry/platform/kvm, pkg/ring0, pkg/sigframe) as summarised in PRIMER.md.

/** An ARM64 instruction word as dlv's instructionBytes spell it: memory order, hex. */
export function le32(word: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(word >>> 0);
  return b.toString('hex');
}

/** The vDSO's __kernel_rt_sigreturn: MOVZ X8, #139 (rt_sigreturn); SVC #0. */
export const ARM64_SIGRETURN_WORDS = [0xd2801168, 0xd4000001] as const;
/** The amd64 restorer: MOV RAX, 15 (rt_sigreturn); SYSCALL. */
export const AMD64_SIGRETURN_BYTES = '48c7c00f0000000f05';

/** What a frame without a symbol that runs the trampoline is called. */
export function trampolineLabel(arch: 'arm64' | 'amd64'): string {
  return arch === 'arm64' ? '[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)' : '[anonymous] rt_sigreturn trampoline (mov rax, 15; syscall)';
}

export type Phase = 'host' | 'entering' | 'trapped' | 'in-guest' | 'guest-exit' | 'sigreturn' | 'resumed';

/** The phases in the order a round trip passes through them. */
export const PHASES: ReadonlyArray<{ phase: Phase; title: string; words: string }> = [
  { phase: 'host', title: 'host', words: 'Ordinary host code at EL0 (ring 3): the Sentry running as a normal process.' },
  { phase: 'entering', title: 'entering', words: 'Inside kvm.bluepill, about to execute the instruction that traps in user space.' },
  { phase: 'trapped', title: 'trapped', words: 'The trap was delivered as a signal: the thread runs kvm.sighandler on the signal stack, with the interrupted context in the ucontext.' },
  { phase: 'in-guest', title: 'in guest (KVM_RUN)', words: 'bluepillHandler loops on ioctl(KVM_RUN): the thread is now a vCPU, running the same code at EL1 (ring 0) inside the guest.' },
  { phase: 'guest-exit', title: 'guest exit', words: 'The guest stopped (HLT, or ring0.Halt\'s write to the vector page): bluepillGuestExit copies the vCPU registers into the ucontext, so the exit PC becomes where the host resumes.' },
  { phase: 'sigreturn', title: 'sigreturn', words: 'The handler returned into the rt_sigreturn trampoline, which asks the kernel to restore the (rewritten) ucontext.' },
  { phase: 'resumed', title: 'resumed', words: 'Back in the host at the exit PC: often a system call the host now executes for the guest, or the next privileged instruction, which traps again.' },
];

export type VariantId = 'arm64' | 'amd64-cli' | 'amd64-sigframe';

export type LandmarkRole =
  | 'bluepill'
  | 'trap-instruction'
  | 'sighandler'
  | 'bluepill-handler'
  | 'kvm-run'
  | 'guest-exit'
  | 'arch-exit'
  | 'redpill'
  | 'trampoline'
  | 'host-syscall'
  | 'switch-to-user'
  | 'kernel-exit'
  | 'halt'
  | 'vectors'
  | 'signal-frame'
  | 'user-handler'
  | 'sigreturn-call';

export interface Landmark {
  role: LandmarkRole;
  /** Function names, matched on their last path element: "kvm.bluepill" matches gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepill. */
  symbols?: string[];
  /** An instruction (Go syntax, as dlv prints it, or raw little-endian word bytes) that marks it. */
  instruction?: { text?: RegExp; bytes?: string[] };
  phase: Phase;
  /** What the user should know, in words. */
  words: string;
  /** Code that also runs inside the guest: a software breakpoint here corrupts the round trip. */
  runsInGuest?: boolean;
}

export interface Variant {
  id: VariantId;
  arch: 'arm64' | 'amd64';
  title: string;
  trapSignal: { number: number; name: string };
  /** Symbols whose presence tells this variant apart from the others of its architecture. */
  detect: { present?: string[]; absent?: string[] };
  landmarks: Landmark[];
  /** Where the ucontext pointer is when the handler starts. */
  ucontextRegister: string;
  /** The register that holds the syscall number at an SVC/SYSCALL. */
  syscallRegister: string;
}

/** ring0 and vCPU code that runs in the guest, on both architectures. */
const ringAndKvmGuestCode: Landmark[] = [
  { role: 'switch-to-user', symbols: ['ring0.(*CPU).SwitchToUser'], phase: 'host', runsInGuest: true, words: 'ring0.(*CPU).SwitchToUser: the Sentry switching to the application. Runs in the guest: a software breakpoint here makes bluepillGuestExit record the wrong exit PC.' },
  { role: 'kvm-run', symbols: ['kvm.(*vCPU).KernelSyscall', 'kvm.(*vCPU).KernelException', 'kvm.bluepillArchEnter'], phase: 'in-guest', runsInGuest: true, words: 'vCPU code that runs in guest mode or prepares it.' },
];

/** ring0's entry and exit paths on ARM64 (pkg/ring0/entry_arm64.s). */
const arm64Ring0: Landmark[] = [
  { role: 'halt', symbols: ['ring0.Halt', 'ring0.HaltEl1SvcAndResume', 'ring0.HaltEl1ExceptionAndResume', 'ring0.Shutdown'], phase: 'in-guest', runsInGuest: true, words: 'ring0 halt path: the guest leaves KVM_RUN from here (ring0.Halt writes to the read-only vector page: a VM exit).' },
  { role: 'vectors', symbols: ['ring0.vectors', 'ring0.El1_sync', 'ring0.El1_irq', 'ring0.El1_fiq', 'ring0.El1_error', 'ring0.El0_sync', 'ring0.El0_irq', 'ring0.El0_fiq', 'ring0.El0_error', 'ring0.kernelSyscall', 'ring0.kernelException', 'ring0.start'], phase: 'in-guest', runsInGuest: true, words: 'ring0 exception entry: only ever runs inside the guest.' },
];

/** ring0's entry and exit paths on amd64 (pkg/ring0/entry_amd64.s). */
const amd64Ring0: Landmark[] = [
  { role: 'halt', symbols: ['ring0.Halt', 'ring0.HaltAndWriteFSBase'], phase: 'in-guest', runsInGuest: true, words: 'ring0 halt path: the guest leaves KVM_RUN from here (HLT: a VM exit).' },
  { role: 'vectors', symbols: ['ring0.sysenter', 'ring0.exception', 'ring0.kernelSyscall', 'ring0.kernelException', 'ring0.start'], phase: 'in-guest', runsInGuest: true, words: 'ring0 system call and exception entry: only ever runs inside the guest.' },
];

/** The handler's way into and out of the guest: the same Go functions in every variant. */
function handlerLandmarks(guestExitWords: string): Landmark[] {
  return [
    { role: 'bluepill-handler', symbols: ['kvm.bluepillHandler'], phase: 'in-guest', words: 'kvm.bluepillHandler: loops on ioctl(vcpu, KVM_RUN); while it is in the ioctl the thread runs as the guest.' },
    { role: 'guest-exit', symbols: ['kvm.bluepillGuestExit'], phase: 'guest-exit', words: guestExitWords },
    { role: 'arch-exit', symbols: ['kvm.bluepillArchExit'], phase: 'guest-exit', words: 'kvm.bluepillArchExit: the architecture part of the copy back into the ucontext.' },
  ];
}

/** amd64's system call instructions: the redpill and the host executing a guest's call. */
const amd64Syscalls: Landmark[] = [
  { role: 'redpill', symbols: ['kvm.redpill'], phase: 'entering', words: 'kvm.redpill: SYSCALL with RAX = -1, turned into a VM exit by the guest.' },
  { role: 'host-syscall', instruction: { text: /^SYSCALL\b/, bytes: ['0f05'] }, phase: 'resumed', words: 'A SYSCALL: resumed here, the host executes the system call the guest stopped at (number in RAX).' },
];

export const VARIANTS: ReadonlyArray<Variant> = [
  {
    id: 'arm64',
    arch: 'arm64',
    title: 'ARM64: MRS TPIDR_EL1 → SIGILL',
    trapSignal: { number: 4, name: 'SIGILL' },
    detect: {},
    ucontextRegister: 'X2',
    syscallRegister: 'X8',
    landmarks: [
      { role: 'bluepill', symbols: ['kvm.bluepill'], phase: 'entering', runsInGuest: true, words: 'kvm.bluepill: enters the guest by executing MRS TPIDR_EL1, which is undefined at EL0.' },
      { role: 'trap-instruction', instruction: { text: /^MRS (\$18052|TPIDR_EL1),/, bytes: [le32(0xd538d08a), le32(0xd538d092)] }, phase: 'entering', runsInGuest: true, words: 'MRS TPIDR_EL1: at EL0 it raises SIGILL (the bluepill); at EL1 in the guest it reads the per-CPU pointer. A single step here lands in the signal handler, not on the next instruction.' },
      { role: 'sighandler', symbols: ['kvm.sighandler'], phase: 'trapped', runsInGuest: false, words: 'kvm.sighandler: takes SIGILL with a PC (R0 signo, R1 siginfo, R2 ucontext) and calls bluepillHandler; other signals go to the Go runtime.' },
      ...handlerLandmarks('kvm.bluepillGuestExit: counts the exit and copies the vCPU registers (PC, SP, regs, PSTATE EL0t) into the ucontext.'),
      { role: 'redpill', symbols: ['kvm.redpill'], phase: 'entering', words: 'kvm.redpill: SVC with R8 = -1, which the guest turns into a VM exit: used when the trap landed on the wrong vCPU.' },
      { role: 'trampoline', symbols: ['__kernel_rt_sigreturn'], instruction: { bytes: ARM64_SIGRETURN_WORDS.map(le32) }, phase: 'sigreturn', words: '[vdso] __kernel_rt_sigreturn: MOV X8, #139; SVC #0. The kernel restores the ucontext, and so resumes at the exit PC bluepillGuestExit wrote.' },
      { role: 'host-syscall', instruction: { text: /^SVC\b/, bytes: [le32(0xd4000001)] }, phase: 'resumed', words: 'An SVC: resumed here, the host executes the system call the guest stopped at (number in X8).' },
      { role: 'kernel-exit', symbols: ['ring0.kernelExitToEl0', 'ring0.kernelExitToEl1'], phase: 'resumed', runsInGuest: true, words: 'ring0.kernelExitToEl0/El1: its first instruction, MRS TPIDR_EL1, R18, traps again on the host and re-enters the guest.' },
      ...ringAndKvmGuestCode,
      ...arm64Ring0,
    ],
  },
  {
    id: 'amd64-cli',
    arch: 'amd64',
    title: 'amd64 (before 2024): CLI → SIGSEGV',
    trapSignal: { number: 11, name: 'SIGSEGV' },
    // The 2024 builds that replaced the trap keep kvm.sighandler: the sigframe entry tells them apart.
    detect: { present: ['kvm.sighandler'], absent: ['sigframe.CallWithSignalFrame'] },
    ucontextRegister: 'RDX',
    syscallRegister: 'RAX',
    landmarks: [
      { role: 'bluepill', symbols: ['kvm.bluepill'], phase: 'entering', runsInGuest: true, words: 'kvm.bluepill: enters the guest by executing CLI, which faults at ring 3 (#GP → SIGSEGV).' },
      { role: 'trap-instruction', instruction: { text: /^CLI\b/, bytes: ['fa'] }, phase: 'entering', runsInGuest: true, words: 'CLI: at ring 3 it raises SIGSEGV (the bluepill); in the guest at ring 0 it masks interrupts. A single step here lands in the signal handler.' },
      { role: 'sighandler', symbols: ['kvm.sighandler'], phase: 'trapped', words: 'kvm.sighandler: takes SIGSEGV with si_code SI_KERNEL at a CLI (RDI signo, RSI siginfo, RDX ucontext) and calls bluepillHandler.' },
      ...handlerLandmarks('kvm.bluepillGuestExit: counts the exit and copies the vCPU registers into the ucontext.'),
      { role: 'trampoline', symbols: ['runtime.sigreturn__sigaction', 'runtime.sigreturn'], instruction: { bytes: ['48c7c00f000000', '0f05'] }, phase: 'sigreturn', words: 'The rt_sigreturn trampoline (MOV RAX, 15; SYSCALL): the kernel restores the ucontext, and so resumes at the exit PC.' },
      ...amd64Syscalls,
      ...ringAndKvmGuestCode,
      ...amd64Ring0,
    ],
  },
  {
    id: 'amd64-sigframe',
    arch: 'amd64',
    title: 'amd64 (since 2024): sigframe.CallWithSignalFrame → explicit rt_sigreturn',
    trapSignal: { number: 0, name: 'none' },
    detect: { present: ['sigframe.CallWithSignalFrame'] },
    ucontextRegister: 'RDI',
    syscallRegister: 'RAX',
    landmarks: [
      { role: 'bluepill', symbols: ['kvm.bluepill'], phase: 'entering', runsInGuest: true, words: 'kvm.bluepill: checks getcs()&3 and, from ring 3, builds a signal frame itself instead of trapping.' },
      { role: 'signal-frame', symbols: ['sigframe.CallWithSignalFrame', 'sigframe.callWithSignalFrame'], phase: 'entering', words: 'sigframe.CallWithSignalFrame: builds a ucontext on the vCPU\'s signal stack, as the kernel would for a signal.' },
      { role: 'user-handler', symbols: ['kvm.bluepillUserHandler'], phase: 'trapped', words: 'kvm.bluepillUserHandler: plays the signal handler\'s part on that frame, then calls sigframe.Sigreturn.' },
      ...handlerLandmarks('kvm.bluepillGuestExit: counts the exit and copies the vCPU registers into the frame\'s ucontext.'),
      { role: 'sigreturn-call', symbols: ['sigframe.Sigreturn'], instruction: { bytes: ['48c7c00f000000', '0f05'] }, phase: 'sigreturn', words: 'sigframe.Sigreturn: an explicit rt_sigreturn (syscall 15) on the frame: resumes at the exit PC.' },
      ...amd64Syscalls,
      ...ringAndKvmGuestCode,
      ...amd64Ring0,
    ],
  },
];

export function variantById(id: VariantId): Variant {
  return VARIANTS.find((v) => v.id === id)!;
}
