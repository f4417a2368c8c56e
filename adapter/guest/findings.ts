// Findings in words, each from one rule that fires only where the evidence holds. Each says
// what was seen, what it means for gVisor, and what the user can try. Facts about gVisor cite
// its source (the module pinned in tools/build-runsc.sh).
import type { GuestFault, GuestSummary, VcpuSummary } from './summary';

/** Thresholds, in one place so tests and README can quote them. */
export const THRESHOLDS = {
  /** A loop worth telling, a fault worth naming: this many turns or times at least. */
  loopIterations: 20,
  /** Rates are told only from this many events up (a rate over a handful says nothing). */
  minEventsForRate: 100,
  /** The same exception this share of all injected ones, and at least this many a second. */
  exceptionShare: 0.9,
  exceptionsPerSecond: 100,
  /** KVM emulating this many instructions a second is not an occasional MMIO access. */
  emulatedPerSecond: 1000,
  /** No return of KVM_RUN to runsc for this long while the guest keeps KVM busy. */
  noUserspaceExitUs: 1_000_000,
  /** One stay in the guest this long (when kvm_entry/kvm_exit fire). */
  longInGuestUs: 1_000_000,
  /** kvm_exit events a second that make an exit storm. */
  exitsPerSecond: 50_000,
  /** Events needed before saying kvm_entry/kvm_exit do not fire. */
  silentEntryExitEvents: 1000,
};

type Rule = (s: GuestSummary, t: VcpuSummary) => string | undefined;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const rate = (n: number, seconds: number) => Math.round(n / Math.max(seconds, 1e-6)).toLocaleString('en-US');
/** Rates count the events read: when the kernel dropped some, the real rate is higher. */
const atLeast = (s: GuestSummary) => (s.lost > 0 ? 'at least ' : '');
const ms = (us: number) => (us >= 1e6 ? `${(us / 1e6).toFixed(1)} s` : `${(us / 1e3).toFixed(1)} ms`);
const vcpu = (t: VcpuSummary) => `vCPU thread ${t.tid}`;
const short = (symbol: string) => symbol.replace(/^gvisor\.dev\/gvisor\/pkg\//, '');

const loopRule: Rule = (s, t) => {
  const loop = s.loops.find((l) => l.tid === t.tid && l.iterations >= THRESHOLDS.loopIterations);
  if (!loop) return undefined;
  const turn = loop.symbols.map(short).join(' → ');
  return `${vcpu(t)} goes round the same ${plural(loop.period, 'step')} of guest code again and again (${loop.iterations.toLocaleString('en-US')} turns, ${loop.perSecond.toLocaleString('en-US')} a second): ${turn}. A guest that makes progress does not repeat the same instructions in the same order; this one is stuck in that cycle.`;
};

/** The instruction's own text shows the fault address came from a segment base of 0 (e.g. "mov %gs:0x110,%rax" faulting on 0x110). */
function segmentBaseZero(f: GuestFault): string | undefined {
  const m = /%([fg]s):(0x[0-9a-f]+)/.exec(f.instruction ?? '');
  return m && /^0x[0-9a-f]+$/.test(f.faultAddress) && BigInt(m[2]) === BigInt(f.faultAddress) ? m[1].toUpperCase() : undefined;
}

const repeatedFaultRule: Rule = (s, t) => {
  const f = t.faults[0];
  if (!f || f.count < THRESHOLDS.loopIterations) return undefined;
  const where = f.symbol ? `${short(f.symbol)}${f.instruction ? ` (${f.instruction})` : ''}` : 'an unknown guest PC';
  const inLoop = s.loops.some((l) => l.tid === t.tid && f.symbol !== undefined && l.symbols.includes(f.symbol));
  let text = `${vcpu(t)}: the guest faults ${f.count.toLocaleString('en-US')} times on address ${f.faultAddress} (${describeError(f.error)}) at ${where}.`;
  if (inLoop) text += ' That instruction is part of the loop: the handler of the fault faults again itself, so the guest can never finish handling it.';
  const segment = segmentBaseZero(f);
  if (segment === 'GS') {
    text +=
      ` The address is the instruction's own offset in GS, so the GS base is 0: ring0's per-CPU pointer (kernelEntry) is not set yet. ring0 sets it in startGo (writeGS(kernelAddr(c.kernelEntry)), pkg/ring0/kernel_amd64.go), after the vCPU's first instructions in ring0.start: a fault before that point cannot be handled.`;
  } else if (segment) text += ` The address is the instruction's own offset in ${segment}: its base is 0.`;
  return text;
};

function describeError(error: string): string {
  if (/RSVD/.test(error)) return `a reserved bit is set in a guest page-table entry, error ${error}`;
  if (/^0\b/.test(error) || !/\bP\b/.test(error)) return `not mapped, error ${error}`;
  return `error ${error}`;
}

const reservedBitRule: Rule = (_s, t) => {
  const f = [t.firstFault, ...t.faults].find((x) => x && /RSVD/.test(x.error));
  if (!f) return undefined;
  const pte = f.pte ? BigInt(f.pte) : undefined;
  const hugePage = pte !== undefined && (pte & 0x80n) !== 0n && (f.level === 3 || f.level === 2);
  let text = `${vcpu(t)}: KVM rejected a guest page-table entry as having a reserved bit set (error ${f.error}) on address ${f.faultAddress}${f.symbol ? `, touched by ${short(f.symbol)}${f.instruction ? ` (${f.instruction})` : ''}` : ''}${f.pte ? `; the walk stopped at level ${f.level}, entry ${f.pte}` : ''}.`;
  if (hugePage && f.level === 3) {
    text +=
      ' That entry maps a 1 GB page (PS set at level 3). gVisor maps 1 GB pages wherever a region is aligned (pkg/ring0/pagetables/walker_amd64.go, "This level has 1-GB super pages") and gives the vCPU the CPUID that KVM_GET_SUPPORTED_CPUID reports (pkg/sentry/platform/kvm/machine_amd64.go); KVM treats the PS bit at level 3 as reserved when that CPUID lacks 1 GB pages (pdpe1gb). So this KVM does not offer 1 GB pages to guests, and gVisor\'s page tables need them. Try: a host whose KVM reports pdpe1gb (check: grep pdpe1gb /proc/cpuinfo inside a KVM guest of it), a bare-metal host with kvm_intel or kvm_amd, or --platform=systrap.';
  } else if (hugePage) {
    text += ' That entry maps a 2 MB page (PS set at level 2), which this KVM rejects.';
  }
  return text;
};

const sameExceptionRule: Rule = (s, t) => {
  const total = t.exceptions.reduce((n, e) => n + e.count, 0);
  const top = t.exceptions[0];
  if (!top || top.count < THRESHOLDS.minEventsForRate || top.count < total * THRESHOLDS.exceptionShare || top.count / Math.max(s.seconds, 1e-6) < THRESHOLDS.exceptionsPerSecond) return undefined;
  return `${vcpu(t)}: KVM injected the same exception into the guest ${top.count.toLocaleString('en-US')} times (${top.exception}, ${atLeast(s)}${rate(top.count, s.seconds)} a second). The guest takes it, and takes it again: its exception handler does not fix the cause. For gVisor this means ring0 cannot handle the fault itself, and it never gets to the point where it would hand it to the Sentry on the host.`;
};

const emulationRule: Rule = (s, t) => {
  if (t.emulated < THRESHOLDS.minEventsForRate || t.emulated / Math.max(s.seconds, 1e-6) < THRESHOLDS.emulatedPerSecond) return undefined;
  const share = t.events ? t.emulated / t.events : 0;
  const pvm = s.kvmModules.includes('kvm_pvm');
  return `${vcpu(t)}: KVM emulates the guest's instructions one by one instead of running them (${t.emulated.toLocaleString('en-US')} kvm_emulate_insn, ${atLeast(s)}${rate(t.emulated, s.seconds)} a second${t.emulationFailures ? `, ${t.emulationFailures} failed` : ''}). Each costs a trip through KVM's instruction emulator and a walk of the guest's page tables, so the guest gets that many instructions a second where hardware would run billions${pvm ? `. This host's KVM is PVM (module kvm_pvm loaded: KVM built on page tables, without hardware virtualisation, as nested cloud VMs offer)` : ''}.${share > 0.05 ? ' Whatever else is wrong, a guest that crawls like this cannot make the Sentry fast.' : ''} Try: --platform=systrap, which needs no KVM, or a host with hardware KVM (kvm_intel or kvm_amd).`;
};

const noUserspaceExitRule: Rule = (_s, t) => {
  if (t.withoutUserspaceExitUs < THRESHOLDS.noUserspaceExitUs) return undefined;
  return `${vcpu(t)} has not come back from the guest for ${ms(t.withoutUserspaceExitUs)} (${t.userspaceExitCount ? 'no kvm_userspace_exit since the last one' : 'no kvm_userspace_exit at all'}): its ioctl(KVM_RUN) does not return, so gVisor's bluepillHandler never reaches bluepillGuestExit, the Sentry's code on this thread does not run, and the thread keeps a host CPU at 100%. dlv sees this thread only inside the ioctl (kvm.bluepillHandler).`;
};

const longStayRule: Rule = (_s, t) => {
  if (t.entries === 0 || Math.max(t.longestInGuestUs, t.stillInGuestUs) < THRESHOLDS.longInGuestUs) return undefined;
  return `${vcpu(t)} stayed in the guest for ${ms(Math.max(t.longestInGuestUs, t.stillInGuestUs))} without an exit (mean stay ${ms(t.meanInGuestUs)} over ${plural(t.entries, 'entry', 'entries')}). A guest that runs that long without exiting is spinning or waiting on something only it can see; the hottest guest code shows where.`;
};

const exitStormRule: Rule = (s, t) => {
  const exits = t.byEvent.kvm_exit ?? 0;
  if (exits / Math.max(s.seconds, 1e-6) < THRESHOLDS.exitsPerSecond) return undefined;
  const top = t.exitReasons[0];
  return `${vcpu(t)}: exit storm, ${atLeast(s)}${rate(exits, s.seconds)} kvm_exit a second${top ? `, mostly ${top.reason} (${Math.round((100 * top.count) / exits)}%)` : ''}. Each exit costs the vCPU a trip to the host kernel; gVisor's guest should run long stretches between exits.`;
};

/** Per-sandbox rules (not per thread). */
const silentEntryExit = (s: GuestSummary): string | undefined => {
  const total = s.threads.reduce((n, t) => n + t.events, 0);
  const entriesExits = s.threads.reduce((n, t) => n + (t.byEvent.kvm_entry ?? 0) + (t.byEvent.kvm_exit ?? 0), 0);
  if (entriesExits > 0 || total < THRESHOLDS.silentEntryExitEvents) return undefined;
  const which = s.kvmModules.filter((m) => m.startsWith('kvm')).join(', ');
  return `No kvm_entry or kvm_exit fired in ${s.seconds.toFixed(1)} s while ${total.toLocaleString('en-US')} other KVM events did${which ? ` (KVM modules here: ${which})` : ''}: this host's KVM does not report guest entries and exits through those events, so the time per guest entry cannot be measured here; the guest's PCs come from the events that do fire (instruction emulation, page walks).`;
};

const THREAD_RULES: Rule[] = [loopRule, repeatedFaultRule, reservedBitRule, sameExceptionRule, emulationRule, noUserspaceExitRule, longStayRule, exitStormRule];

export function findingsFor(s: GuestSummary): string[] {
  const out: string[] = [];
  for (const t of s.threads) for (const rule of THREAD_RULES) {
    const text = rule(s, t);
    if (text) out.push(text);
  }
  const silent = silentEntryExit(s);
  if (silent) out.push(silent);
  return out;
}
