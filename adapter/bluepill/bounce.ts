// A vCPU thread stopped in bluepillHandler's ioctl(KVM_RUN): still in the guest, or kicked out of
// it. The ioctl's request stays in its register across the system call (amd64 RSI, ARM64 X1) and
// the result is in RAX/X0: KVM_RUN (0xae80, kvm_const.go) returning EINTR means a signal took the
// thread out of the guest; gVisor's own bounce (vCPU.bounce sends SIGCHLD with tgkill: machine.go)
// or this very stop (dlv stops every thread, and one in KVM_RUN leaves the guest to stop).
// Measured on runsc (amd64, --platform=kvm) attached by dlv: RAX = -4, RSI = 0xae80, RDI = the vCPU fd.
import type { Diagnosis } from './diagnoses';

export const KVM_RUN = 0xae80n;
const EINTR = 0xfffffffffffffffcn; // -4

/** The registers read at such a stop, by dlv's names: the result, then the request. */
export function kvmRunRegisters(arch: 'arm64' | 'amd64'): [result: string, request: string] {
  return arch === 'arm64' ? ['X0', 'X1'] : ['RAX', 'RSI'];
}

/** Whether these registers say the thread was kicked out of KVM_RUN. */
export function kickedOutOfKvmRun(result: bigint | undefined, request: bigint | undefined): boolean {
  return request === KVM_RUN && result === EINTR;
}

export const KICKED_OUT_MODE = 'host: kicked out of KVM_RUN (EINTR), not running the guest now';
/** When dlv would not give the registers (it sometimes loses the frames of a thread on a signal stack). */
export const UNREAD_SYSCALL_MODE = 'host: stopped in a system call of bluepillHandler (its registers could not be read); if it is KVM_RUN, this stop took the vCPU out of the guest';

export function kickedOut(arch: 'arm64' | 'amd64'): Diagnosis {
  const [result, request] = kvmRunRegisters(arch);
  return {
    id: 'vcpu-kicked-out',
    severity: 'info',
    message: `Kicked out of KVM_RUN, not a guest exit: the ioctl returned EINTR (${result} = -4, ${request} = KVM_RUN 0xae80) because a signal interrupted it: gVisor's bounce (vCPU.bounce sends SIGCHLD with tgkill, machine.go) or this stop itself (the debugger stops every thread, and one in KVM_RUN leaves the guest to stop). On resume bluepillHandler takes a pending SIGCHLD with rt_sigtimedwait and, for a bounce, gets the guest to stop by injecting an interrupt or asking for an interrupt window; with none pending (EAGAIN) it runs the vCPU again (bluepill_unsafe.go).`,
  };
}
