// Bytes from trace_pipe, in chunks that end anywhere, into the aggregate: complete lines are
// read at once, the unfinished tail waits for the next chunk.
import { GuestAggregate } from './aggregate';
import { DEFAULT_PC_MARKERS, toGuestEvent, type PcMarkers } from './events';
import { scanTraceLines, type TraceLine } from './traceLine';

const PIECE = 256 * 1024;

export class TraceStream {
  private tail: Buffer = Buffer.alloc(0);
  private readonly onLine = (line: TraceLine) => this.aggregate.add(toGuestEvent(line, this.markers));
  private readonly onOther = (text: string) => {
    // "CPU:1 [LOST 4242 EVENTS]": the kernel's buffer was full before we read it.
    const lost = /\[LOST (\d+) EVENTS\]/.exec(text);
    if (lost) this.aggregate.lost += Number(lost[1]);
  };

  constructor(
    readonly aggregate = new GuestAggregate(),
    private readonly markers: PcMarkers = DEFAULT_PC_MARKERS,
  ) {}

  feed(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    // One flat string per piece, made in one call into the runtime and below Node's 1 MB limit
    // for on-heap strings (a larger one is external and slower to read char by char).
    for (let from = 0; from < bytes.length; from += PIECE) {
      const piece = bytes.subarray(from, Math.min(bytes.length, from + PIECE));
      const text = (this.tail.length ? Buffer.concat([this.tail, piece]) : piece).toString('latin1');
      const rest = scanTraceLines(text, this.onLine, this.onOther);
      // A copy: the caller may reuse its buffer for the next read.
      this.tail = Buffer.from(text.slice(rest), 'latin1');
    }
  }
}
