// Where gVisor's KVM-platform code runs, by name alone: the fallback for functions the generated
// table (guestCode.generated.ts, one gVisor version) does not list, e.g. names of older gVisor
// releases (ring0.Vectors and ring0.Start before September 2022). Checked against the facts
// derived from a June 2022 gVisor (test/fixtures/gvisor-2022/guestCode.json) and the pinned one:
// each rule must agree with both wherever it speaks.
import type { GuestVerdict } from './guestCodeTypes';

interface NameRule {
  pattern: RegExp;
  verdict: GuestVerdict;
  reason: string;
}

const RULES: readonly NameRule[] = [
  {
    pattern: /^kvm\.(sighandler|sigsysHandler|dieTrampoline|dieHandler|bluepillHandler|bluepillUserHandler|bluepillGuestExit|bluepillArch\w+|bluepillSigBus|bluepillStopGuest|bluepillReadyStopGuest|bluepillDieCleanly|seccompMmapHandler)$|^kvm\.\(\*vCPU\)\.die\w*$/,
    verdict: 'host-only',
    reason: "kvm's signal-handler path (the SIGILL/SIGSEGV handler, the die path): runs on the host",
  },
  {
    pattern: /^ring0\.(El[01]_\w+|[Vv]ectors|[Ss]tart|sysenter|exception|kernelSyscall|kernelException|kernelExitToEl[01]|HaltEl1SvcAndResume|HaltEl1ExceptionAndResume|HaltAndWriteFSBase|Shutdown|sysret|iret|resume|doSwitchToUser|\(\*CPU\)\.SwitchToUser)$/,
    verdict: 'guest',
    reason: "ring0's entry, exception and exit code: runs in guest mode",
  },
  {
    pattern: /^kvm\.\(\*vCPU\)\.(KernelSyscall|KernelException)$/,
    verdict: 'guest',
    reason: "the vCPU's ring0 hooks, called from ring0's syscall and exception entries in guest mode",
  },
  {
    pattern: /^kvm\.\(\*addressSpace\)\.(mapLocked|unmapLocked)$/,
    verdict: 'guest',
    reason: 'page-table updates, called after bluepill() has switched the thread into guest mode',
  },
  {
    pattern: /^kvm\.bluepill$|^kvm\.\(\*vCPU\)\.SwitchToUser$/,
    verdict: 'both',
    reason: 'the switch into the guest: starts on the host, continues in guest mode',
  },
  {
    pattern: /^kvm\.redpill$/,
    verdict: 'both',
    reason: 'called in the guest to leave it (a system call numbered -1, bluepill.go); the host resumes after that system call, on its way back into kvm.bluepill',
  },
];

export function guestVerdictByName(name: string): { verdict: GuestVerdict; reason: string } | undefined {
  const rule = RULES.find((r) => r.pattern.test(name));
  return rule && { verdict: rule.verdict, reason: rule.reason };
}
