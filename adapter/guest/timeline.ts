// The guest timeline: the cumulative GuestSummary a watch emits every second, turned
// into per-interval samples (per vCPU thread: time in the guest, events, exits by
// reason, failed page walks), and drawn as an SVG with one lane per vCPU thread and the
// Bluepill State's round trips on the same time axis. Pure: the extension's webview
// only shows the string.
import type { Trip } from '../bluepill/tripLog';
import type { GuestSummary, VcpuSummary } from './summary';

/** One interval of one vCPU thread. */
export interface LaneSample {
  /** Microseconds of the interval the thread spent in the guest (0..interval). */
  guestUs: number;
  events: number;
  /** Exits in the interval by reason: kvm_exit reasons and KVM_RUN returns ("userspace: …"). */
  exits: Record<string, number>;
  /** Failed guest page walks in the interval. */
  faults: number;
}

export interface TimelineSample {
  /** Wall-clock ms when the interval ended (the summary arrived), and its length. */
  time: number;
  intervalMs: number;
  lanes: Record<number, LaneSample>;
}

/** Cumulative in-guest time of a thread: completed entries plus the one still open. */
function guestUs(t: VcpuSummary): number {
  return t.meanInGuestUs * t.entries + t.stillInGuestUs;
}

function exitCounts(t: VcpuSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of t.exitReasons) out[e.reason] = (out[e.reason] ?? 0) + e.count;
  for (const e of t.userspaceExits) out[`userspace: ${e.reason}`] = (out[`userspace: ${e.reason}`] ?? 0) + e.count;
  return out;
}

const faultCount = (t: VcpuSummary) => t.faults.reduce((n, f) => n + f.count, 0);

/** Keeps the last `max` intervals of one session's guest watch. */
export class GuestTimeline {
  private readonly list: TimelineSample[] = [];
  private previous?: { time: number; threads: Map<number, VcpuSummary> };

  constructor(private readonly max = 300) {}

  /** A summary as it arrived; the first one only sets the baseline. */
  add(summary: GuestSummary, receivedAt: number): void {
    const threads = new Map(summary.threads.map((t) => [t.tid, t]));
    const before = this.previous;
    this.previous = { time: receivedAt, threads };
    if (!before) return;
    const intervalMs = Math.max(1, receivedAt - before.time);
    const lanes: Record<number, LaneSample> = {};
    for (const [tid, now] of threads) {
      const was = before.threads.get(tid);
      const exits = exitCounts(now);
      if (was) for (const [reason, n] of Object.entries(exitCounts(was))) exits[reason] = (exits[reason] ?? 0) - n;
      for (const reason of Object.keys(exits)) if (exits[reason] <= 0) delete exits[reason];
      lanes[tid] = {
        guestUs: Math.min(intervalMs * 1000, Math.max(0, guestUs(now) - (was ? guestUs(was) : 0))),
        events: Math.max(0, now.events - (was?.events ?? 0)),
        exits,
        faults: Math.max(0, faultCount(now) - (was ? faultCount(was) : 0)),
      };
    }
    this.list.push({ time: receivedAt, intervalMs, lanes });
    if (this.list.length > this.max) this.list.splice(0, this.list.length - this.max);
  }

  samples(): readonly TimelineSample[] {
    return this.list;
  }
}

/** Text for HTML and SVG: &, <, > and " escaped. */
export const escapeMarkup = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A stable colour per exit reason, from a small palette. */
function colourOf(reason: string): string {
  const palette = ['#e06c75', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d19a66', '#98c379', '#be5046'];
  let h = 0;
  for (const c of reason) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return palette[h % palette.length];
}

export interface TimelineDrawing {
  width: number;
  /** The time the right edge stands for (wall-clock ms). */
  now: number;
  /** How much time the drawing spans (ms). */
  spanMs: number;
}

/**
 * One lane per vCPU thread: per interval, a grey bar for its events (relative to the busiest
 * interval), a blue bar for the share of it spent in the guest (the rest was host), exit ticks
 * coloured by reason, a red mark where guest page walks failed. Above the lanes, the round
 * trips of the state view (each stop a dot on its phase).
 */
export function timelineSvg(samples: readonly TimelineSample[], trips: readonly Trip[], d: TimelineDrawing): string {
  const left = 130;
  const laneH = 34;
  const tripsH = 26;
  const tids = [...new Set(samples.flatMap((s) => Object.keys(s.lanes).map(Number)))].sort((a, b) => a - b);
  const height = tripsH + Math.max(1, tids.length) * laneH + 36;
  const x = (t: number) => left + ((t - (d.now - d.spanMs)) / d.spanMs) * (d.width - left - 10);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${d.width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="4" y="16" fill="currentColor">round trips</text>`);
  for (const trip of trips) {
    const stops = trip.stops.filter((s) => s.time >= d.now - d.spanMs);
    if (!stops.length) continue;
    const xs = stops.map((s) => x(s.time));
    parts.push(`<line x1="${Math.min(...xs)}" x2="${Math.max(...xs)}" y1="12" y2="12" stroke="#888"/>`);
    for (const s of stops) parts.push(`<circle cx="${x(s.time)}" cy="12" r="4" fill="${s.phase === 'in-guest' ? '#61afef' : '#98c379'}"><title>trip #${trip.number}: ${escapeMarkup(s.phase)} at ${escapeMarkup(s.pc)} ${escapeMarkup(s.symbol)}</title></circle>`);
  }
  // Activity (events per interval) is drawn for every lane: a KVM that fires no entry/exit
  // events (PVM) gives no time in the guest, but still shows how busy the vCPU is.
  const maxEvents = Math.max(1, ...samples.flatMap((s) => Object.values(s.lanes).map((l) => l.events)));
  tids.forEach((tid, i) => {
    const top = tripsH + i * laneH;
    parts.push(`<text x="4" y="${top + 20}" fill="currentColor">vCPU thread ${tid}</text>`);
    parts.push(`<line x1="${left}" x2="${d.width - 10}" y1="${top + laneH - 4}" y2="${top + laneH - 4}" stroke="#555"/>`);
    for (const s of samples) {
      const lane = s.lanes[tid];
      if (!lane || s.time < d.now - d.spanMs) continue;
      const x0 = x(s.time - s.intervalMs);
      const w = Math.max(1, x(s.time) - x0 - 1);
      const share = lane.guestUs / (s.intervalMs * 1000);
      const h = Math.round(share * (laneH - 8));
      const exits = Object.entries(lane.exits).sort((a, b) => b[1] - a[1]);
      const words = `${Math.round(share * 100)}% in guest, ${lane.events} events${exits.length ? `, exits: ${exits.map(([r, n]) => `${r} ×${n}`).join(', ')}` : ', no exit'}${lane.faults ? `, ${lane.faults} failed page walks` : ''}`;
      const busy = Math.max(1, Math.round((lane.events / maxEvents) * (laneH - 12)));
      parts.push(`<rect x="${x0}" y="${top + laneH - 4 - busy}" width="${w}" height="${busy}" fill="#888" opacity="0.35"><title>${escapeMarkup(words)}</title></rect>`);
      parts.push(`<rect x="${x0}" y="${top + laneH - 4 - h}" width="${w}" height="${h}" fill="#61afef" opacity="0.8"><title>${escapeMarkup(words)}</title></rect>`);
      let tick = 0;
      for (const [reason] of exits.slice(0, 4)) parts.push(`<rect x="${x0 + tick++ * 3}" y="${top + 2}" width="2" height="6" fill="${colourOf(reason)}"><title>${escapeMarkup(reason)}</title></rect>`);
      if (lane.faults) parts.push(`<rect x="${x0}" y="${top + laneH - 3}" width="${w}" height="2" fill="#e06c75"><title>${lane.faults} failed guest page walks</title></rect>`);
    }
  });
  const axisY = height - 14;
  for (let s = 0; s <= d.spanMs / 1000; s += Math.max(1, Math.round(d.spanMs / 1000 / 6))) {
    const t = d.now - s * 1000;
    parts.push(`<text x="${x(t) - 10}" y="${axisY + 10}" fill="currentColor">-${s}s</text>`);
  }
  const reasons = [...new Set(samples.flatMap((s) => Object.values(s.lanes).flatMap((l) => Object.keys(l.exits))))].slice(0, 8);
  reasons.forEach((r, i) => parts.push(`<rect x="${left + i * 130}" y="${axisY - 8}" width="8" height="8" fill="${colourOf(r)}"/><text x="${left + i * 130 + 12}" y="${axisY}" fill="currentColor">${escapeMarkup(r.slice(0, 18))}</text>`));
  if (!tids.length) parts.push(`<text x="${left}" y="${tripsH + 20}" fill="currentColor">No guest activity traced yet.</text>`);
  parts.push('</svg>');
  return parts.join('');
}
