// The shape every front end reads: the CLI's --json, the session's once-a-second summary,
// the VS Code view and the timeline. Plain JSON (no bigint, no Map).
import type { GuestArch } from './addressMap';
import type { GuestEvent } from './events';

/** A guest PC named by runsc's symbols, with how often the trace saw the guest there. */
export interface HotPc {
  /** runsc's function and offset, e.g. "gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser+0x1c"; the raw address when runsc has no symbol there. */
  symbol: string;
  /** runsc's address (hex, 0x…): the guest PC with the kernel-half alias removed. */
  address: string;
  /** The guest PC as the kernel printed it (hex, no 0x). */
  guestPc: string;
  /** Events that carried this PC (entries, exits, faults, emulations). */
  count: number;
  /** file.go:line, from the binary's DWARF, when it has one. */
  source?: string;
  /** The instruction there, from objdump. */
  instruction?: string;
  /** arm64: the exception level the guest was at there (exceptionLevel.ts), and why. */
  level?: 'EL1' | 'EL0' | 'EL0 or EL1';
  levelWhy?: string;
}

/** A cycle of guest PCs the vCPU went round, again and again. */
export interface GuestLoop {
  /** The symbols of one turn, in order (one per event of the turn). */
  symbols: string[];
  /** The events of one turn, e.g. ["kvm_entry", "kvm_page_fault"]. */
  events: string[];
  /** Turns counted in a row (summed over every run of the same cycle). */
  iterations: number;
  /** Events per turn. */
  period: number;
  /** Turns per second while it went round. */
  perSecond: number;
  /** The vCPU thread that went round. */
  tid: number;
}

/** A guest memory access KVM's page walk could not complete (kvmmmu events). */
export interface GuestFault {
  /** The instruction that made the access, by runsc symbol (the last guest PC before the walk). */
  symbol?: string;
  /** The instruction there, from objdump. */
  instruction?: string;
  /** The address accessed (hex, 0x…), or "unknown (an instruction fetch)": fetch walks are not traced. */
  faultAddress: string;
  /** The walker's error flags: "0" not present, "9 P|RSVD" a reserved bit set in an entry. */
  error: string;
  /** The page-table entry where the walk stopped (hex) and its level (4 = top, 3 = 1 GB, 2 = 2 MB). */
  pte?: string;
  level?: number;
  count: number;
}

/** Where a vCPU thread's guest was when the trace last saw it (the Call Stack's guest frame). */
export interface LastGuestPc {
  /** runsc's function and offset; the raw address when runsc has no symbol there. */
  symbol: string;
  /** runsc's address (hex, 0x…) and the guest PC as the kernel printed it. */
  address: string;
  guestPc: string;
  /** The event that carried it (kvm_exit, kvm_emulate_insn, …) and how long before the summary (µs). */
  event: string;
  agoUs: number;
  source?: string;
  instruction?: string;
  level?: HotPc['level'];
  levelWhy?: string;
}

/** What one vCPU thread did during the summary's time. */
export interface VcpuSummary {
  tid: number;
  events: number;
  eventsPerSecond: number;
  /** kvm_exit reasons (x86 names, arm64 exception classes), most first. */
  exitReasons: { reason: string; count: number }[];
  /** Why KVM_RUN returned to runsc (kvm_userspace_exit), most first. */
  userspaceExits: { reason: string; count: number }[];
  /** Exceptions KVM injected into the guest (kvm_inj_exception), most first. */
  exceptions: { exception: string; count: number }[];
  /** Instructions KVM emulated (kvm_emulate_insn) and how many of them failed. */
  emulated: number;
  emulationFailures: number;
  /** Guest entries, and the time from an entry to the next event that left the guest. */
  entries: number;
  meanInGuestUs: number;
  longestInGuestUs: number;
  /** In the guest since this long without leaving (0 if not in the guest at the end). */
  stillInGuestUs: number;
  /** Returns of KVM_RUN to runsc (kvm_userspace_exit), and time since the last one (or since the trace began). */
  userspaceExitCount: number;
  withoutUserspaceExitUs: number;
  /** Failed guest page walks, most first, and the first one seen (traced from the start: the root cause). */
  faults: GuestFault[];
  firstFault?: GuestFault;
  /** The last guest PC seen on this thread. */
  last?: LastGuestPc;
  /** The guest PCs this thread was seen at, most first (up to 5). */
  hot: HotPc[];
  /** Events by kernel event name. */
  byEvent: Record<string, number>;
}

/** One look at one sandbox's guest: `bluepill-lens guest --json` prints one; startGuestWatch emits one a second. */
export interface GuestSummary {
  pid: number;
  binary: string;
  arch: GuestArch;
  /** The host's loaded KVM modules (kvm_intel, kvm_amd, kvm_pvm, …): which KVM ran the guest. */
  kvmModules: string[];
  /** Seconds from the first to the last event. */
  seconds: number;
  /** Seconds the trace ran (the CLI's --seconds, as it went), where that is known: events may fill only part of it. */
  tracedSeconds?: number;
  /** Events read, and events the kernel dropped (its buffer was full). */
  events: number;
  lost: number;
  /** Guest PCs by runsc symbol, hottest first, over every vCPU thread. */
  hot: HotPc[];
  /** Loops found, most iterations first. */
  loops: GuestLoop[];
  /** What the evidence says, in words, each with what it means for gVisor and what to try. */
  findings: string[];
  /** Per vCPU thread, busiest first. */
  threads: VcpuSummary[];
  /** The last events read (up to 64, oldest first), for a timeline: time (µs, trace clock), thread, event, guest PC. */
  recent: GuestEvent[];
}
