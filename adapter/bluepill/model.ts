// The bluepill round trip, as data: for each variant of gVisor's KVM platform, the
// landmarks (by symbol and by instruction pattern, never by address) and the phase
// a thread is in when it stops there, and the words each phase has in that variant.
// Facts from gVisor's source at the pinned version (GVISOR_VERSION in tools/build-runsc.sh):
// pkg/sentry/platform/kvm (bluepill*.go/.s, machine_*), pkg/ring0/entry_arm64.s, pkg/sigframe;
// the amd64 CLI variant from gVisor's bluepill_amd64.s before 2024.

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

export interface PhaseInfo {
  phase: Phase;
  title: string;
  words: string;
}

/** The phases in the order a round trip passes through them, in words true of every variant. */
export const PHASES: ReadonlyArray<PhaseInfo> = [
  { phase: 'host', title: 'host', words: 'Ordinary host code at EL0 (ring 3): the Sentry running as a normal process.' },
  { phase: 'entering', title: 'entering', words: 'Inside kvm.bluepill, on the way into the guest.' },
  { phase: 'trapped', title: 'trapped', words: 'The signal handler\'s part has begun: the interrupted context is in a ucontext, and bluepillHandler is about to load it into the vCPU.' },
  { phase: 'in-guest', title: 'in guest (KVM_RUN)', words: 'bluepillHandler loops on ioctl(KVM_RUN): while the ioctl runs, the thread is a vCPU running the same code in guest mode.' },
  { phase: 'guest-exit', title: 'guest exit', words: 'The guest stopped: bluepillGuestExit copies the vCPU registers into the ucontext, so the exit PC becomes where the host resumes.' },
  { phase: 'sigreturn', title: 'sigreturn', words: 'An rt_sigreturn asks the kernel to restore the (rewritten) ucontext.' },
  { phase: 'resumed', title: 'resumed', words: 'Back in the host at the exit PC, usually a system call the host now executes for the guest.' },
];

/** The phases with the words of one variant (each variant enters and leaves the guest its own way). */
export function phasesOf(variant: Pick<Variant, 'phaseWords'> | undefined): PhaseInfo[] {
  return PHASES.map((p) => ({ ...p, words: variant?.phaseWords[p.phase] ?? p.words }));
}

/** The phases of a variant named by id (a state's variant), or the common words when there is none. */
export function phasesOfId(id: VariantId | undefined): PhaseInfo[] {
  return phasesOf(id ? variantById(id) : undefined);
}

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
  | 'guest-only-trap'
  | 'die'
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
  /** Not a step of a healthy round trip (the die path): never a place to run to. */
  offPath?: boolean;
  /** The same code's names in older gVisor releases (matched like `symbols`, absent from the pinned runsc). */
  formerSymbols?: string[];
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
  /** What each phase is in this variant. */
  phaseWords: Partial<Record<Phase, string>>;
  /** What this variant's signal handlers do with a SIGSEGV/SIGILL that is not its own trap. */
  foreignSignal: string;
}

/** ring0 and vCPU code that runs in the guest, on both architectures. */
const ringAndKvmGuestCode: Landmark[] = [
  { role: 'switch-to-user', symbols: ['ring0.(*CPU).SwitchToUser'], phase: 'host', runsInGuest: true, words: 'ring0.(*CPU).SwitchToUser: the Sentry switching to the application. Runs in the guest: a software breakpoint here makes bluepillGuestExit record the wrong exit PC.' },
  { role: 'kvm-run', symbols: ['kvm.(*vCPU).KernelSyscall', 'kvm.(*vCPU).KernelException', 'kvm.bluepillArchEnter'], phase: 'in-guest', runsInGuest: true, words: 'vCPU code that runs in guest mode or prepares it.' },
];

/** ring0's entry and exit paths on ARM64 (pkg/ring0/entry_arm64.s). */
const arm64Ring0: Landmark[] = [
  { role: 'halt', symbols: ['ring0.Halt', 'ring0.HaltEl1SvcAndResume', 'ring0.HaltEl1ExceptionAndResume', 'ring0.Shutdown'], phase: 'in-guest', runsInGuest: true, words: 'ring0 halt path: the guest leaves KVM_RUN from here (ring0.Halt writes to the read-only vector page: a VM exit).' },
  { role: 'vectors', symbols: ['ring0.vectors', 'ring0.El1_sync', 'ring0.El1_irq', 'ring0.El1_fiq', 'ring0.El1_error', 'ring0.El0_sync', 'ring0.El0_irq', 'ring0.El0_fiq', 'ring0.El0_error', 'ring0.kernelSyscall', 'ring0.kernelException', 'ring0.start'], formerSymbols: ['ring0.Vectors', 'ring0.Start'], phase: 'in-guest', runsInGuest: true, words: 'ring0 exception entry (ring0.Vectors and ring0.Start before September 2022): only ever runs inside the guest.' },
];

/** ring0's entry and exit paths on amd64 (pkg/ring0/entry_amd64.s). */
const amd64Ring0: Landmark[] = [
  { role: 'halt', symbols: ['ring0.Halt', 'ring0.HaltAndWriteFSBase'], phase: 'in-guest', runsInGuest: true, words: 'ring0 halt path: the guest leaves KVM_RUN from here (HLT: a VM exit).' },
  { role: 'vectors', symbols: ['ring0.sysenter', 'ring0.exception', 'ring0.kernelSyscall', 'ring0.kernelException', 'ring0.start'], phase: 'in-guest', runsInGuest: true, words: 'ring0 system call and exception entry: only ever runs inside the guest.' },
];

/** The handler's way into and out of the guest: the same Go functions in every variant. */
function handlerLandmarks(guestExitWords: string): Landmark[] {
  return [
    { role: 'die', symbols: ['kvm.dieTrampoline', 'kvm.dieHandler'], phase: 'host', offPath: true, words: 'kvm.dieTrampoline/dieHandler: the die path. The signal handler (vCPU.die, bluepill.go) rewrote the ucontext so that the sigreturn lands in dieTrampoline as if called from the guest\'s PC; dieHandler throws the vCPU\'s dieState.message.' },
    { role: 'bluepill-handler', symbols: ['kvm.bluepillHandler'], phase: 'in-guest', words: 'kvm.bluepillHandler: loops on ioctl(vcpu, KVM_RUN); while it is in the ioctl the thread runs as the guest.' },
    { role: 'guest-exit', symbols: ['kvm.bluepillGuestExit'], phase: 'guest-exit', words: guestExitWords },
    { role: 'arch-exit', symbols: ['kvm.bluepillArchExit'], phase: 'guest-exit', words: 'kvm.bluepillArchExit: the architecture part of the copy back into the ucontext.' },
  ];
}

/** amd64's system call instructions: the redpill and the host executing a guest's call. */
const amd64Syscalls: Landmark[] = [
  { role: 'redpill', symbols: ['kvm.redpill'], phase: 'entering', words: 'kvm.redpill: called in the guest to leave it: a SYSCALL with RAX = -1 (_SYS_KVM_RETURN_TO_HOST), which ring0 hands to vCPU.KernelSyscall; that halts the vCPU without rewinding, so the host resumes after the SYSCALL. kvm.bluepill calls it when it runs on another vCPU (bluepill.go, bluepill_amd64.go).' },
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
    phaseWords: {
      entering: 'Inside kvm.bluepill, about to execute MRS TPIDR_EL1, R10: undefined at EL0, so the kernel raises SIGILL (bluepill_arm64.s).',
      trapped: 'The SIGILL was delivered: kvm.sighandler runs on the signal stack (R2 = ucontext) and calls bluepillHandler, whose bluepillArchEnter copies the ucontext registers into the vCPU; R8 holds the vCPU pointer (bluepill_arm64.s, bluepill_arm64.go).',
      'in-guest': 'bluepillHandler loops on ioctl(KVM_RUN): while the ioctl runs, the vCPU runs the interrupted code at EL1 in the guest, starting again at the MRS, which there reads TPIDR_EL1.',
      'guest-exit': 'The guest stopped (ring0.Halt writes to the read-only vector page, an MMIO exit): bluepillGuestExit copies the vCPU registers into the ucontext, so the exit PC becomes where the host resumes.',
      sigreturn: 'kvm.sighandler returned into the vDSO\'s __kernel_rt_sigreturn (MOV X8, #139; SVC #0): the kernel restores the rewritten ucontext.',
      resumed: 'Back in the host at the exit PC: usually the SVC of a system call the host now executes for the guest (vCPU.KernelSyscall rewound the PC to it: bluepill_arm64.go); the Sentry then runs on the host until its next bluepill.',
    },
    foreignSignal: 'kvm.sighandler takes every SIGILL whose saved PC is not 0 for the bluepill (it checks nothing else: bluepill_arm64.s) and calls bluepillHandler, whose bluepillArchEnter reads R8 as the vCPU pointer: with anything else in R8 the handler itself crashes with SIGSEGV, as gVisor\'s note on disableHostPAC describes (machine_arm64_unsafe.go). Other signals go to the handler it replaced.',
    landmarks: [
      { role: 'bluepill', symbols: ['kvm.bluepill'], phase: 'entering', runsInGuest: true, words: 'kvm.bluepill: enters the guest by executing MRS TPIDR_EL1, which is undefined at EL0.' },
      { role: 'trap-instruction', instruction: { text: /^MRS (\$18052|TPIDR_EL1), R10\b/, bytes: [le32(0xd538d08a)] }, phase: 'entering', runsInGuest: true, words: 'MRS TPIDR_EL1, R10 in kvm.bluepill: at EL0 it raises SIGILL (the bluepill); at EL1 in the guest it reads the vCPU pointer ring0.start stored there. A single step here lands in the signal handler, not on the next instruction.' },
      { role: 'guest-only-trap', instruction: { text: /^MRS (\$18052|TPIDR_EL1), R18\b/, bytes: [le32(0xd538d092)] }, phase: 'entering', runsInGuest: true, words: 'MRS TPIDR_EL1, R18: ring0\'s entry and exit paths load the per-CPU pointer this way (pkg/ring0/entry_arm64.s). Guest-only code: on the host it is not the bluepill, it is undefined at EL0 and raises SIGILL.' },
      { role: 'sighandler', symbols: ['kvm.sighandler'], phase: 'trapped', runsInGuest: false, words: 'kvm.sighandler: takes SIGILL with a PC (R0 signo, R1 siginfo, R2 ucontext) and calls bluepillHandler; other signals go to the Go runtime.' },
      ...handlerLandmarks('kvm.bluepillGuestExit: counts the exit and copies the vCPU registers (PC, SP, regs, PSTATE EL0t) into the ucontext.'),
      { role: 'redpill', symbols: ['kvm.redpill'], phase: 'entering', words: 'kvm.redpill: called in the guest to leave it: a system call with number -1 (_SYS_KVM_RETURN_TO_HOST, SVC with R8 = -1), which ring0 hands to vCPU.KernelSyscall; that halts the vCPU without rewinding the PC, so the host resumes after the SVC. kvm.bluepill calls it when the MRS found another vCPU (bluepill.go, bluepill_arm64.s).' },
      { role: 'trampoline', symbols: ['__kernel_rt_sigreturn'], instruction: { bytes: ARM64_SIGRETURN_WORDS.map(le32) }, phase: 'sigreturn', words: '[vdso] __kernel_rt_sigreturn: MOV X8, #139; SVC #0. The kernel restores the ucontext, and so resumes at the exit PC bluepillGuestExit wrote.' },
      { role: 'host-syscall', instruction: { text: /^SVC\b/, bytes: [le32(0xd4000001)] }, phase: 'resumed', words: 'An SVC: resumed here, the host executes the system call the guest stopped at (number in X8).' },
      { role: 'kernel-exit', symbols: ['ring0.kernelExitToEl0', 'ring0.kernelExitToEl1'], phase: 'in-guest', runsInGuest: true, words: 'ring0.kernelExitToEl0/El1: guest-only code, ring0\'s way back to the application (EL0) or the Sentry (EL1) inside the guest, ending in ERET (pkg/ring0/entry_arm64.s). The host never runs it in a healthy round trip: the exit PC the host resumes at is outside ring0 (vCPU.KernelSyscall rewinds it to the SVC).' },
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
    phaseWords: {
      entering: 'Inside kvm.bluepill, about to execute CLI: at ring 3 it faults, and the kernel raises SIGSEGV with si_code SI_KERNEL.',
      trapped: 'The SIGSEGV was delivered: kvm.sighandler (RDX = ucontext) checks si_code SI_KERNEL and a CLI at the RIP, then calls bluepillHandler, whose bluepillArchEnter copies the ucontext into the vCPU; RAX holds the vCPU pointer.',
      'in-guest': 'bluepillHandler loops on ioctl(KVM_RUN): while the ioctl runs, the vCPU runs the interrupted code at ring 0 in the guest, starting again at the CLI.',
      'guest-exit': 'The guest stopped (HLT in ring0.Halt): bluepillGuestExit copies the vCPU registers into the ucontext, so the exit RIP becomes where the host resumes.',
      sigreturn: 'kvm.sighandler returned into the rt_sigreturn trampoline (MOV RAX, 15; SYSCALL): the kernel restores the rewritten ucontext.',
      resumed: 'Back in the host at the exit RIP: usually the SYSCALL of a system call the host now executes for the guest (vCPU.KernelSyscall rewound RIP by 2 to it).',
    },
    foreignSignal: 'kvm.sighandler passes it on to the handler it replaced (the Go runtime\'s) unless si_code is SI_KERNEL and the byte at the RIP is CLI (bluepill_amd64.s before 2024).',
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
    phaseWords: {
      entering: 'Inside kvm.bluepill: from ring 3 (getcs()&3 != 0) it does not trap; it blocks all signals and calls sigframe.CallWithSignalFrame, which builds a signal frame (a ucontext whose RIP is sigframe.retjmp) on the vCPU\'s signal stack and calls bluepillUserHandler on it (bluepill_amd64_unsafe.go, pkg/sigframe/sigframe_amd64.s).',
      trapped: 'No signal: kvm.bluepillUserHandler(frame) plays the handler\'s part on that frame; bluepillHandler\'s bluepillArchEnter copies it into the vCPU (RAX holds the vCPU pointer).',
      'in-guest': 'bluepillHandler loops on ioctl(KVM_RUN): the vCPU starts at the frame\'s RIP, sigframe.retjmp, and returns from CallWithSignalFrame and bluepill at ring 0 in the guest.',
      'guest-exit': 'The guest stopped (HLT in ring0.Halt): bluepillGuestExit copies the vCPU registers into the frame\'s ucontext, so the exit RIP becomes where the host resumes.',
      sigreturn: 'bluepillUserHandler called sigframe.Sigreturn: an explicit rt_sigreturn (MOVQ $15, AX; SYSCALL) on the frame. This variant has no kvm.sighandler and no kernel trampoline.',
      resumed: 'Back in the host at the exit RIP: usually the SYSCALL of a system call the host now executes for the guest (vCPU.KernelSyscall rewound RIP by 2 to it: bluepill_amd64.go).',
    },
    foreignSignal: 'The KVM platform of this variant installs no SIGSEGV or SIGILL handler (bluepill builds its own frame; only SIGSYS has one, sigsysHandler): the signal goes to the process\'s other handlers, ending in the Go runtime\'s.',
    landmarks: [
      { role: 'bluepill', symbols: ['kvm.bluepill'], phase: 'entering', runsInGuest: true, words: 'kvm.bluepill: checks getcs()&3 and, from ring 3, builds a signal frame itself instead of trapping.' },
      { role: 'signal-frame', symbols: ['sigframe.CallWithSignalFrame', 'sigframe.callWithSignalFrame'], phase: 'entering', words: 'sigframe.CallWithSignalFrame: builds a ucontext on the vCPU\'s signal stack, as the kernel would for a signal, with RIP = sigframe.retjmp.' },
      { role: 'signal-frame', symbols: ['sigframe.retjmp'], phase: 'resumed', words: 'sigframe.retjmp: where the frame\'s RIP points (sigframe_amd64.s). The vCPU starts here in the guest and returns from CallWithSignalFrame; the host runs it only when a sigreturn restores that RIP unchanged.' },
      { role: 'user-handler', symbols: ['kvm.bluepillUserHandler'], phase: 'trapped', words: 'kvm.bluepillUserHandler(frame): plays the signal handler\'s part on that frame (bluepillHandler), then calls sigframe.Sigreturn on it.' },
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
