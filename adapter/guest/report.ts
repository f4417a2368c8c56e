// From what the tracer counted to what the user reads: guest PCs named by runsc's symbols,
// loops, per-vCPU figures, and findings in words (findings.ts).
import type { GuestAggregate, ThreadTrace, WalkFault } from './aggregate';
import type { LoopRecord } from './loops';
import type { NamedPc } from './symbolize';
import type { GuestArch } from './addressMap';
import type { GuestFault, GuestLoop, GuestSummary, HotPc, LastGuestPc, VcpuSummary } from './summary';
import { findingsFor } from './findings';
import { exitLevel } from './exceptionLevel';

/** Names guest PCs; GuestSymbols does it from runsc's ELF. */
export interface PcNamer {
  name(guestPc: string): NamedPc;
  describe?(pcs: NamedPc[]): void;
}

export interface ReportOptions {
  pid: number;
  binary: string;
  arch: GuestArch;
  /** Time of the report in the trace's clock (µs): how long a vCPU has been in the guest is measured to it. */
  nowUs?: number;
  /** Add source lines and instructions to the hottest PCs (runs addr2line/objdump). */
  describe?: boolean;
  hotCount?: number;
  /** Loaded KVM modules (/sys/module: kvm_intel, kvm_amd, kvm_pvm…): they tell which KVM this is. */
  kvmModules?: string[];
}

const RECENT_IN_SUMMARY = 64;

export function buildSummary(agg: GuestAggregate, namer: PcNamer, options: ReportOptions): GuestSummary {
  const threads = [...agg.threads.values()].sort((a, b) => b.events - a.events);
  const firstUs = Math.min(...threads.map((t) => t.firstUs));
  const lastUs = Math.max(0, ...threads.map((t) => t.lastUs));
  const seconds = threads.length ? Math.max(lastUs - firstUs, 1) / 1e6 : 0;
  const nowUs = options.nowUs ?? lastUs;
  const loopRecords = threads.map((t) => ({ t, loops: t.loops.snapshot() }));

  const hotCounts = sumCounts(threads.flatMap((t) => t.pcs.top())).slice(0, options.hotCount ?? 15);
  if (options.describe && namer.describe) {
    // The PCs a reader will look at: the hottest, the loops', and the faulting instructions.
    const pcs = new Set(hotCounts.map(([pc]) => pc));
    for (const { t, loops } of loopRecords) for (const l of loops.slice(0, 3)) for (const tok of l.tokens) if (t.tokenNames[tok]) pcs.add(t.tokenNames[tok].pc);
    for (const t of threads) {
      for (const f of [...t.walkFaultSamples.values()].slice(0, 5)) if (f.pc) pcs.add(f.pc);
      if (t.firstWalkFault?.pc) pcs.add(t.firstWalkFault.pc);
      const last = t.lastGuestPc();
      if (last) pcs.add(last.pc);
    }
    namer.describe([...pcs].map((pc) => namer.name(pc)));
  }
  // arm64: EL0 or EL1, from the address and, inside runsc's code, the abort's syndrome there.
  const levelOf = (p: NamedPc) => {
    let esr: string | undefined;
    for (const t of threads) if ((esr = t.syndromes.get(p.guestPc)) !== undefined) break;
    const judged = exitLevel(options.arch, p.half, p.symbol !== undefined, esr !== undefined ? BigInt(esr) : undefined, p.instruction);
    return judged ? { level: judged.level, levelWhy: judged.why } : {};
  };
  const hot = hotCounts.map(([pc, count]) => hotPc(namer.name(pc), count, levelOf));
  const loops = loopRecords.flatMap(({ t, loops }) => loops.filter((l) => l.tokens.every((k) => k >= 0)).map((l) => guestLoop(l, t, namer))).sort((a, b) => b.iterations - a.iterations);
  const summary: GuestSummary = {
    pid: options.pid,
    binary: options.binary,
    arch: options.arch,
    kvmModules: options.kvmModules ?? [],
    seconds,
    events: agg.total,
    lost: agg.lost,
    hot,
    loops,
    findings: [],
    threads: threads.map((t) => vcpuSummary(t, namer, nowUs, levelOf)),
    recent: agg.recentInOrder().slice(-RECENT_IN_SUMMARY),
  };
  summary.findings = findingsFor(summary);
  return summary;
}

/** Counts of the same PC from several threads summed, hottest first. */
function sumCounts(entries: [string, number][]): [string, number][] {
  const sum = new Map<string, number>();
  for (const [pc, count] of entries) if (pc !== '(other)') sum.set(pc, (sum.get(pc) ?? 0) + count);
  return [...sum].sort((a, b) => b[1] - a[1]);
}

type LevelOf = (p: NamedPc) => Pick<HotPc, 'level' | 'levelWhy'>;

function hotPc(p: NamedPc, count: number, levelOf?: LevelOf): HotPc {
  return { symbol: p.symbol ?? p.address, address: p.address, guestPc: p.guestPc, count, ...describedFields(p), ...levelOf?.(p) };
}

function describedFields(p: NamedPc): Pick<HotPc, 'source' | 'instruction'> {
  const out: Pick<HotPc, 'source' | 'instruction'> = {};
  if (p.source) out.source = p.source;
  if (p.instruction) out.instruction = p.instruction;
  return out;
}

function guestLoop(l: LoopRecord, t: ThreadTrace, namer: PcNamer): GuestLoop {
  const parts = l.tokens.map((tok) => t.tokenNames[tok]);
  return {
    symbols: parts.map(({ pc }) => namer.name(pc).symbol ?? namer.name(pc).address),
    events: parts.map(({ event }) => event),
    iterations: l.iterations,
    period: l.tokens.length,
    perSecond: l.spanUs > 0 ? Math.round((l.iterations * 1e6) / l.spanUs) : 0,
    tid: t.tid,
  };
}

function guestFault(f: WalkFault, count: number, namer: PcNamer): GuestFault {
  const at = f.pc !== undefined ? namer.name(f.pc) : undefined;
  const out: GuestFault = { faultAddress: f.address === '?' ? 'unknown (an instruction fetch)' : `0x${f.address}`, error: f.error, count };
  if (at) out.symbol = at.symbol ?? at.address;
  if (at?.instruction) out.instruction = at.instruction;
  if (f.pte !== undefined) out.pte = `0x${f.pte}`;
  if (f.level !== undefined) out.level = f.level;
  return out;
}

/** The last guest PC of a thread, named; `nowUs` in the trace's clock. */
export function lastGuestPc(t: ThreadTrace, namer: PcNamer, nowUs: number, levelOf?: LevelOf): LastGuestPc | undefined {
  const last = t.lastGuestPc();
  if (!last) return undefined;
  const p = namer.name(last.pc);
  return { symbol: p.symbol ?? p.address, address: p.address, guestPc: p.guestPc, event: last.event, agoUs: Math.max(0, nowUs - last.timeUs), ...describedFields(p), ...levelOf?.(p) };
}

function vcpuSummary(t: ThreadTrace, namer: PcNamer, nowUs: number, levelOf: LevelOf): VcpuSummary {
  const last = lastGuestPc(t, namer, nowUs, levelOf);
  const span = Math.max(t.lastUs - t.firstUs, 1) / 1e6;
  const pairs = <K extends string>(c: { top(): [string, number][] }, key: K) => c.top().map(([k, count]) => ({ [key]: k, count }) as { [P in K]: string } & { count: number });
  return {
    tid: t.tid,
    events: t.events,
    eventsPerSecond: Math.round(t.events / span),
    exitReasons: pairs(t.exitReasons, 'reason'),
    userspaceExits: pairs(t.userspaceExits, 'reason'),
    exceptions: pairs(t.exceptions, 'exception'),
    emulated: t.emulated.total(),
    emulationFailures: t.emulationFailures,
    entries: t.entries,
    meanInGuestUs: t.entries ? Math.round(t.inGuestUs / t.entries) : 0,
    longestInGuestUs: t.longestInGuestUs,
    stillInGuestUs: t.stillInGuestUs(nowUs),
    userspaceExitCount: t.userspaceExitCount,
    withoutUserspaceExitUs: Math.max(0, nowUs - (t.lastUserspaceExitUs ?? t.firstUs)),
    faults: t.walkFaults
      .top(5)
      .filter(([key]) => t.walkFaultSamples.has(key))
      .map(([key, count]) => guestFault(t.walkFaultSamples.get(key)!, count, namer)),
    ...(t.firstWalkFault ? { firstFault: guestFault(t.firstWalkFault, 1, namer) } : {}),
    ...(last ? { last } : {}),
    hot: t.pcs
      .top(5)
      .filter(([pc]) => pc !== '(other)')
      .map(([pc, count]) => hotPc(namer.name(pc), count, levelOf)),
    byEvent: Object.fromEntries(t.byEvent.counts),
  };
}
