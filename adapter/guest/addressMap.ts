// Guest virtual PCs → runsc's own addresses. gVisor's KVM platform runs the Sentry's code
// inside the guest at two virtual addresses (gVisor pinned in tools/build-runsc.sh):
//
// - the lower half, at the very host address: pkg/sentry/platform/kvm/machine.go (newMachine,
//   "Map everything in the lower half": m.kernel.PageTables.Map(pr.virtual, …, pr.physical)),
//   so code entered by bluepill keeps the RIP/PC of the host thread;
// - the upper half, at KernelStartAddress | host address: machine_amd64.go and machine_arm64.go
//   (mapUpperHalf: Map(ring0.KernelStartAddress|virtual, …)); the exception and syscall entry
//   points are put there by pkg/ring0/kernel_unsafe.go (kernelFunc: KernelStartAddress | fn),
//   used for the IDT and LSTAR (ring0/kernel_amd64.go) and for VBAR_EL1
//   (kvm/machine_arm64_unsafe.go: KernelStartAddress | AddrOfVectors()).
//
// KernelStartAddress = ^uintptr(0) - (UserspaceSize - 1):
// - amd64 (pkg/ring0/lib_amd64.go, Init): UserspaceSize = 1 << (VirtualAddressBits - 1), with
//   VirtualAddressBits 48 (57 only with LA57), so 0xffff800000000000 (or 0xff00000000000000);
// - arm64 (pkg/ring0/defs_arm64.go, aarch64.go): VirtualAddressBits = 48, UserspaceSize = 1 << 48,
//   so 0xffff000000000000.
// The host address is the guest PC with the kernel-half bits cleared: pc & (UserspaceSize - 1).

export type GuestArch = 'amd64' | 'arm64';

export interface KernelHalf {
  /** ring0.KernelStartAddress */
  start: bigint;
  /** UserspaceSize - 1: the bits that hold the host address */
  hostMask: bigint;
}

const half = (userspaceBits: bigint): KernelHalf => ({
  start: ((1n << 64n) - 1n) - ((1n << userspaceBits) - 1n),
  hostMask: (1n << userspaceBits) - 1n,
});

/** Per architecture, the layouts gVisor can choose, narrowest kernel half first. */
export const KERNEL_HALVES: Record<GuestArch, KernelHalf[]> = {
  amd64: [half(47n), half(56n)],
  arm64: [half(48n)],
};

export interface HostAddress {
  host: bigint;
  /** 'upper' when the guest ran the upper-half alias (ring0's entry points, exception vectors). */
  half: 'lower' | 'upper';
}

export function guestToHost(arch: GuestArch, pc: bigint): HostAddress {
  for (const k of KERNEL_HALVES[arch]) if (pc >= k.start) return { host: pc & k.hostMask, half: 'upper' };
  return { host: pc, half: 'lower' };
}

/** ELF e_machine → the architecture, or undefined for one gVisor's KVM platform does not run on. */
export function archOfMachine(machine: number): GuestArch | undefined {
  return machine === 62 ? 'amd64' : machine === 183 ? 'arm64' : undefined;
}
