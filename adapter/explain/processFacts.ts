// What is known of a process when an address of it is explained (addressKinds.ts), gathered
// from /proc and its ELF (localProcess.ts), from recorded texts (processTexts.ts), or from the
// ELF alone for a board; its own module, so the rules that read it need not import each other.
import type { ElfSection } from '../elf/sections';
import type { Mapping } from './procMaps';

export type Arch = 'amd64' | 'arm64';

export interface ThreadFacts {
  tid: number;
  name?: string;
  /** From /proc/PID/task/TID/syscall; undefined while it runs. */
  sp?: bigint;
}

/** What is known of the process: everything but arch and the ELF is optional (a remote board has no /proc). */
export interface ProcessFacts {
  arch: Arch;
  pid?: number;
  exePath?: string;
  /** The executable's section headers, and where it is loaded (0 for Go's non-PIE binaries). */
  sections?: ElfSection[];
  loadBias?: bigint;
  isGo: boolean;
  /** The executable has gVisor's KVM platform (kvm.fillAddressSpace among its symbols). */
  isGvisorKvm: boolean;
  maps?: Mapping[];
  threads?: ThreadFacts[];
  /** The host CPU's physical address width (amd64: /proc/cpuinfo "address sizes"; gVisor reads it from CPUID). */
  physicalAddressBits?: number;
  /**
   * ARM64: what KVM answers to KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE) on the process's machine,
   * the guest-physical address bits gVisor's KVM platform reads (it takes at most 40). No file shows it.
   */
  kvmIpaBits?: number;
}
