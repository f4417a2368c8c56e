// Finds a guest going round in circles: a stream of tokens (one per event at a guest PC, as
// small numbers) that repeats with a fixed period. Incremental and O(1) per token while a loop
// lasts (the flood case); memory is a fixed window and a bounded table of loops seen.

/** Longest cycle looked for, in tokens (a token is one event at one guest PC). */
export const MAX_PERIOD = 64;
/** A cycle must go round this many times in a row to count as a loop. */
export const MIN_ITERATIONS = 4;
const MAX_LOOPS = 32;
/** Tokens compared when a new period is looked for. */
const CHECKED = 8;

export interface LoopRecord {
  /** The tokens of one turn, starting from the smallest (a canonical rotation). */
  tokens: number[];
  iterations: number;
  firstUs: number;
  lastUs: number;
  /** Time spent going round, summed over the runs of this loop. */
  spanUs: number;
}

export class LoopDetector {
  private readonly window = new Int32Array(MAX_PERIOD * 2);
  private readonly times = new Float64Array(MAX_PERIOD * 2);
  private count = 0;
  private period = 0;
  /** Consecutive tokens equal to the one `period` before. */
  private run = 0;
  private runStartUs = 0;
  private readonly loops = new Map<string, LoopRecord>();

  push(token: number, timeUs: number): void {
    const size = this.window.length;
    const i = this.count % size;
    if (this.period > 0 && this.count >= this.period && this.window[(this.count - this.period) % size] === token) {
      this.run++;
    } else {
      this.finishRun();
      this.period = this.findPeriod(token);
      // findPeriod checked this token and up to 7 before it: they all matched already.
      this.run = this.period > 0 ? Math.min(this.period, CHECKED) : 0;
      this.runStartUs = this.period > 0 ? this.times[(this.count - this.run + 1 - this.period) % size] : timeUs;
    }
    this.window[i] = token;
    this.times[i] = timeUs;
    this.count++;
  }

  /** The smallest period whose last turn matches, checked over up to CHECKED tokens back. */
  private findPeriod(token: number): number {
    const size = this.window.length;
    for (let p = 1; p <= MAX_PERIOD && p <= this.count; p++) {
      if (this.window[(this.count - p) % size] !== token) continue;
      let ok = true;
      for (let k = 1; k < Math.min(p, CHECKED) && ok; k++) {
        const a = this.count - k;
        if (a - p < 0 || this.window[a % size] !== this.window[(a - p) % size]) ok = false;
      }
      if (ok) return p;
    }
    return 0;
  }

  private finishRun(): void {
    if (this.period === 0) return;
    const iterations = Math.floor((this.run + this.period) / this.period);
    if (iterations < MIN_ITERATIONS) return;
    const size = this.window.length;
    const turn: number[] = [];
    for (let k = this.period; k >= 1; k--) turn.push(this.window[(this.count - k) % size]);
    const tokens = canonicalRotation(turn);
    const key = tokens.join(',');
    const lastUs = this.times[(this.count - 1) % size];
    const known = this.loops.get(key);
    if (known) {
      known.iterations += iterations;
      known.lastUs = lastUs;
      known.spanUs += lastUs - this.runStartUs;
    } else {
      if (this.loops.size >= MAX_LOOPS) this.evictSmallest();
      this.loops.set(key, { tokens, iterations, firstUs: this.runStartUs, lastUs, spanUs: lastUs - this.runStartUs });
    }
  }

  private evictSmallest(): void {
    let smallest: string | undefined;
    for (const [k, v] of this.loops) if (smallest === undefined || v.iterations < this.loops.get(smallest)!.iterations) smallest = k;
    if (smallest !== undefined) this.loops.delete(smallest);
  }

  /** Loops seen so far, the one going on now included, most iterations first. */
  snapshot(): LoopRecord[] {
    const saved = { period: this.period, run: this.run, loops: new Map([...this.loops].map(([k, v]) => [k, { ...v }])) };
    this.finishRun();
    const result = [...this.loops.values()].sort((a, b) => b.iterations - a.iterations);
    // Going on now: the run continues after the snapshot, so undo what finishRun recorded.
    this.loops.clear();
    for (const [k, v] of saved.loops) this.loops.set(k, v);
    this.period = saved.period;
    this.run = saved.run;
    return result;
  }
}

/** The rotation of a cycle that starts with its smallest token, so one loop has one key. */
export function canonicalRotation<T>(turn: T[]): T[] {
  let best = 0;
  for (let s = 1; s < turn.length; s++) {
    for (let k = 0; k < turn.length; k++) {
      const a = turn[(s + k) % turn.length];
      const b = turn[(best + k) % turn.length];
      if (a !== b) {
        if (a < b) best = s;
        break;
      }
    }
  }
  return [...turn.slice(best), ...turn.slice(0, best)];
}
