// Counts what the guest does, per vCPU thread, in memory that stays flat whatever the rate:
// counters keyed by small sets (event names, exit reasons, exceptions), a capped table of guest
// PCs, the loop detector's fixed window, and a bounded ring of the most recent events.
import { walkFields, type GuestEvent } from './events';
import { LoopDetector } from './loops';
import { detached } from './traceLine';

/** Distinct guest PCs kept per thread; past it, new PCs are counted together as "other". */
const MAX_PCS = 4096;
const RING_SIZE = 1024;

export class Counter {
  readonly counts = new Map<string, number>();
  constructor(private readonly limit = 256) {}
  add(key: string, n = 1): void {
    const c = this.counts.get(key);
    if (c !== undefined) this.counts.set(key, c + n);
    else if (this.counts.size < this.limit) this.counts.set(detached(key), n);
    else this.counts.set('(other)', (this.counts.get('(other)') ?? 0) + n);
  }
  /** Entries, largest first. */
  top(n = Infinity): [string, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
  total(): number {
    let t = 0;
    for (const c of this.counts.values()) t += c;
    return t;
  }
}

/** A guest page walk KVM could not finish: where the guest was, what it touched, why it failed. */
export interface WalkFault {
  /** Guest PC of the last instruction seen before the walk (the one that touched the address). */
  pc?: string;
  /** The address walked (hex, no 0x). */
  address: string;
  /** The walker's error flags, e.g. "0" (not present) or "9 P|RSVD" (a reserved bit set). */
  error: string;
  /** The last page-table entry read and its level (4 = top): where the walk stopped. */
  pte?: string;
  level?: number;
  timeUs: number;
}

export class ThreadTrace {
  events = 0;
  firstUs = Infinity;
  lastUs = 0;
  readonly byEvent = new Counter();
  /** kvm_exit reasons (x86 reason names, arm64 exception classes). */
  readonly exitReasons = new Counter();
  /** Why KVM_RUN returned to runsc (kvm_userspace_exit). */
  readonly userspaceExits = new Counter();
  readonly exceptions = new Counter();
  readonly pcs = new Counter(MAX_PCS);
  /** Guest PCs where KVM emulated an instruction, with its bytes. */
  readonly emulated = new Counter(MAX_PCS);
  emulationFailures = 0;
  /** Failed guest page walks, keyed "pc|address|error". */
  readonly walkFaults = new Counter(MAX_PCS);
  /** The first failed walk and its page-table entry (traced from the start, the root cause). */
  firstWalkFault: WalkFault | undefined;
  /** The latest of each key of walkFaults, with its page-table entry. */
  readonly walkFaultSamples = new Map<string, WalkFault>();
  userspaceExitCount = 0;
  lastUserspaceExitUs: number | undefined;
  private lastPc: string | undefined;
  /** When the last guest PC was seen, and by which event. */
  private lastPcUs = 0;
  private lastPcEvent = '';
  /** The current walk's text and its last entry's text (read only if the walk fails). */
  private walk: { text: string; entry?: string } | undefined;
  /** Time from each kvm_entry to the next event that leaves the guest (exit, fault, emulation). */
  entries = 0;
  inGuestUs = 0;
  longestInGuestUs = 0;
  private enteredUs: number | undefined;
  /** Longest time between two events that took the vCPU out of the guest. */
  longestWithoutExitUs = 0;
  private lastLeaveUs: number | undefined;
  readonly loops = new LoopDetector();
  /** arm64: the syndrome (ESR) of the last data abort at each guest PC (kvm_guest_fault), to tell EL0 from EL1 there. */
  readonly syndromes = new Map<string, string>();
  /** Loop tokens: one small number per (event, guest PC), and back. */
  private readonly tokenIds = new Map<string, Map<string, number>>();
  readonly tokenNames: { event: string; pc: string }[] = [];

  constructor(readonly tid: number) {}

  add(e: GuestEvent): void {
    this.events++;
    if (e.timeUs < this.firstUs) this.firstUs = e.timeUs;
    if (e.timeUs > this.lastUs) this.lastUs = e.timeUs;
    this.byEvent.add(e.event);
    if (e.pc !== undefined) {
      this.lastPc = e.pc;
      this.lastPcUs = e.timeUs;
      this.lastPcEvent = e.event;
      this.pcs.add(e.pc);
      this.loops.push(this.token(e.event, e.pc), e.timeUs);
    }
    if (e.event === 'kvm_guest_fault' && e.pc !== undefined && e.detail !== undefined && (this.syndromes.has(e.pc) || this.syndromes.size < MAX_PCS)) this.syndromes.set(detached(e.pc), detached(e.detail));
    switch (e.kind) {
      case 'entry':
        this.entries++;
        this.enteredUs = e.timeUs;
        return;
      case 'exit':
        this.exitReasons.add(e.reason ?? '?');
        break;
      case 'userspace-exit':
        this.userspaceExits.add(e.reason ?? '?');
        this.userspaceExitCount++;
        this.lastUserspaceExitUs = e.timeUs;
        break;
      case 'walk':
        this.walk = { text: e.detail ?? '' };
        return;
      case 'walk-entry':
        if (this.walk) this.walk.entry = e.detail;
        return;
      case 'walk-error':
        this.walkFailed(e);
        return;
      case 'exception':
        this.exceptions.add(e.detail !== undefined ? `${e.reason} (${e.detail})` : (e.reason ?? '?'));
        return; // injected on the way back in: the vCPU has not left the guest for it
      case 'emulate':
        // Walks after this belong to this instruction's own accesses.
        this.walk = undefined;
        this.emulated.add(`${e.pc ?? '?'} ${e.detail ?? ''}`.trim());
        if (e.reason === 'failed') this.emulationFailures++;
        break;
      case 'page-fault':
        break;
      default:
        return;
    }
    this.left(e.timeUs);
  }

  private token(event: string, pc: string): number {
    let byPc = this.tokenIds.get(event);
    if (!byPc) this.tokenIds.set(event, (byPc = new Map()));
    let id = byPc.get(pc);
    if (id === undefined) {
      // Past the cap, new PCs share one token: they cannot make a loop, and memory stays flat.
      if (this.tokenNames.length >= MAX_PCS) return -1;
      id = this.tokenNames.length;
      const copy = detached(pc);
      byPc.set(copy, id);
      this.tokenNames.push({ event, pc: copy });
    }
    return id;
  }

  private walkFailed(e: GuestEvent): void {
    // No walk seen: an instruction fetch (its walks are filtered out, tracefs.ts), at the PC after the last one.
    const walk = walkFields(this.walk?.text, this.walk?.entry);
    const fault: WalkFault = { pc: this.lastPc, address: walk.address ?? '?', error: e.reason ?? '?', pte: walk.pte, level: walk.level, timeUs: e.timeUs };
    for (const k of ['pc', 'address', 'error', 'pte'] as const) if (fault[k] !== undefined) fault[k] = detached(fault[k]!);
    const key = `${fault.pc ?? ''}|${fault.address}|${fault.error}`;
    this.walkFaults.add(key);
    if (this.walkFaultSamples.has(key) || this.walkFaultSamples.size < MAX_PCS) this.walkFaultSamples.set(key, fault);
    this.firstWalkFault ??= fault;
    this.walk = undefined;
  }

  /** The vCPU is out of the guest (KVM handles an exit, a fault, an emulation). */
  private left(timeUs: number): void {
    if (this.enteredUs !== undefined) {
      const stay = timeUs - this.enteredUs;
      this.inGuestUs += stay;
      if (stay > this.longestInGuestUs) this.longestInGuestUs = stay;
      this.enteredUs = undefined;
    }
    if (this.lastLeaveUs !== undefined && timeUs - this.lastLeaveUs > this.longestWithoutExitUs) this.longestWithoutExitUs = timeUs - this.lastLeaveUs;
    this.lastLeaveUs = timeUs;
  }

  /** The last guest PC an event of this thread carried: where its guest was when the trace last saw it. */
  lastGuestPc(): { pc: string; timeUs: number; event: string } | undefined {
    return this.lastPc === undefined ? undefined : { pc: this.lastPc, timeUs: this.lastPcUs, event: this.lastPcEvent };
  }

  /** Time since the last exit, if the vCPU is in the guest now (an entry with no exit after it). */
  stillInGuestUs(nowUs: number): number {
    return this.enteredUs !== undefined ? nowUs - this.enteredUs : 0;
  }
}

/** Everything read so far, by thread, plus the most recent events. */
export class GuestAggregate {
  readonly threads = new Map<number, ThreadTrace>();
  readonly recent: GuestEvent[] = [];
  private ringNext = 0;
  total = 0;
  /** Lines the kernel dropped ("[LOST n EVENTS]") or that could not be read. */
  lost = 0;

  add(e: GuestEvent): void {
    this.total++;
    let t = this.threads.get(e.tid);
    if (!t) this.threads.set(e.tid, (t = new ThreadTrace(e.tid)));
    t.add(e);
    if (this.recent.length < RING_SIZE) this.recent.push(e);
    else this.recent[this.ringNext] = e;
    this.ringNext = (this.ringNext + 1) % RING_SIZE;
  }

  /** The ring in time order, oldest first. */
  recentInOrder(): GuestEvent[] {
    return this.recent.length < RING_SIZE ? [...this.recent] : [...this.recent.slice(this.ringNext), ...this.recent.slice(0, this.ringNext)];
  }
}
