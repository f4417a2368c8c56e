// gVisor's die path, decoded into words. When a vCPU cannot go on, the signal handler rewrites the
// ucontext (vCPU.die / dieAndDumpExitReason, bluepill.go; dieArchSetup, bluepill_{arm64,amd64}_unsafe.go):
// - to make the host thread "call" kvm.dieTrampoline from the guest's PC: the vCPU in R1 (ARM64) / RBX
//   (amd64), the guest's PC as a fake caller in R0 / RAX; dieTrampoline jumps to dieHandler, which
//   throws c.dieState.message;
// - or, to dump an unexpected exit, with the PC set to a marker (0xabc) so that the host faults at
//   once after sigreturn, the original PC in R9, the exit reason in R10 and its data in R11-R14;
//   amd64's exception check (archExitSanityCheck, bluepill_amd64.go) uses 0xabd, with the vector in
//   R10 and the fault address in R11.
import type { Diagnosis } from './diagnoses';

/** The PC markers (bluepill_arm64_unsafe.go: 0xabc; bluepill_amd64_unsafe.go: _PANIC_RIP_CPU_DIE, _PANIC_RIP_EXC_CHECK). */
export const DIE_MARKERS: Readonly<Record<'arm64' | 'amd64', Readonly<Record<string, 'exit-reason' | 'exception-check'>>>> = {
  arm64: { '0xabc': 'exit-reason' },
  amd64: { '0xabc': 'exit-reason', '0xabd': 'exception-check' },
};

/**
 * KVM's exit reasons as gVisor names them (pkg/sentry/platform/kvm/kvm_const.go, checked against it
 * by test/runsc/roundTripModel.test.ts).
 */
export const KVM_EXIT_REASONS: Readonly<Record<number, string>> = {
  0x1: 'KVM_EXIT_EXCEPTION',
  0x2: 'KVM_EXIT_IO',
  0x3: 'KVM_EXIT_HYPERCALL',
  0x4: 'KVM_EXIT_DEBUG',
  0x5: 'KVM_EXIT_HLT',
  0x6: 'KVM_EXIT_MMIO',
  0x7: 'KVM_EXIT_IRQ_WINDOW_OPEN',
  0x8: 'KVM_EXIT_SHUTDOWN',
  0x9: 'KVM_EXIT_FAIL_ENTRY',
  0x11: 'KVM_EXIT_INTERNAL_ERROR',
  0x18: 'KVM_EXIT_SYSTEM_EVENT',
  0x1c: 'KVM_EXIT_ARM_NISV',
};

/** Which marker the PC is, if any. */
export function dieMarker(arch: 'arm64' | 'amd64', pc: bigint): 'exit-reason' | 'exception-check' | undefined {
  return DIE_MARKERS[arch][`0x${pc.toString(16)}`];
}

/** The registers each decoding reads, by dlv's names. */
export function dieRegisters(arch: 'arm64' | 'amd64', at: 'marker' | 'trampoline'): string[] {
  if (at === 'trampoline') return arch === 'arm64' ? ['X0', 'X1'] : ['RAX', 'RBX'];
  return arch === 'arm64' ? ['X9', 'X10', 'X11', 'X12', 'X13', 'X14'] : ['R9', 'R10', 'R11', 'R12', 'R13', 'R14'];
}

const hex = (n: bigint) => `0x${n.toString(16)}`;
const named = (pc: bigint, symbolFor: (a: bigint) => string | undefined) => `${hex(pc)}${symbolFor(pc) ? ` (${symbolFor(pc)})` : ''}`;

/** The marker's registers in words; `regs` as dieRegisters(arch, 'marker') lists them. */
export function decodeDieMarker(arch: 'arm64' | 'amd64', pc: bigint, regs: bigint[], symbolFor: (a: bigint) => string | undefined): Diagnosis | undefined {
  const marker = dieMarker(arch, pc);
  if (!marker || regs.length < 6) return undefined;
  const [originalPc, r10, r11, ...data] = regs;
  if (marker === 'exception-check') {
    return { id: 'vcpu-died', severity: 'error', message: `vCPU died: an exception the guest must not take (vector ${r10}, fault address ${hex(r11)}), at PC ${named(originalPc, symbolFor)}. gVisor's exception check set the PC to the marker ${hex(pc)} so that the host faults right after sigreturn (bluepill_amd64.go).` };
  }
  const reason = KVM_EXIT_REASONS[Number(r10)] ?? `exit reason ${r10}`;
  return { id: 'vcpu-died', severity: 'error', message: `vCPU died: exit reason ${reason} (${r10}), data ${[r11, ...data].map(hex).join(' ')}, at PC ${named(originalPc, symbolFor)}. gVisor set the PC to the marker ${hex(pc)} so that the host faults right after sigreturn, with the original PC in ${arch === 'arm64' ? 'X9' : 'R9'} and the exit reason and data in ${arch === 'arm64' ? 'X10–X14' : 'R10–R14'} (dieArchSetup, bluepill_${arch}_unsafe.go).` };
}

/** At kvm.dieTrampoline: the guest's PC (the fake caller) and the vCPU. */
export function decodeDieTrampoline(arch: 'arm64' | 'amd64', regs: bigint[], symbolFor: (a: bigint) => string | undefined): Diagnosis | undefined {
  if (regs.length < 2) return undefined;
  const [guestPc, vcpu] = regs;
  return { id: 'vcpu-died', severity: 'error', message: `vCPU died: the signal handler sent this thread to kvm.dieTrampoline as if called from the guest's PC ${named(guestPc, symbolFor)} (${arch === 'arm64' ? 'X0' : 'RAX'}), vCPU ${hex(vcpu)} (${arch === 'arm64' ? 'X1' : 'RBX'}); dieHandler throws the vCPU's dieState.message (bluepill.go).` };
}
