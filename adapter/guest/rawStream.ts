// Pages from each CPU's trace_pipe_raw into the aggregate. Each record is printed with its
// event's own format (eventFormat.ts), so every later reading is the one of the text path; the
// CPUs' records are merged by time, since a vCPU thread moves between CPUs and the loop detector
// reads each thread's events in order.
import { GuestAggregate } from './aggregate';
import { compileFormat, type EventFormat } from './eventFormat';
import { DEFAULT_PC_MARKERS, toGuestEvent, type PcMarkers } from './events';
import { DEFAULT_PAGE_LAYOUT, RecordCursor, type PageLayout } from './ringBuffer';

/** Where a common_type is read: every record starts with it (u16) and common_pid (s32 at 4). */
const COMMON_PID = 4;

export class RawTraceStream {
  private readonly formats = new Map<number, EventFormat>();
  /**
   * Per CPU, the pages read since the last flush, in a buffer kept from poll to poll: the
   * kernel's pages are read straight into it (a copy per read, freed each poll, left RSS at
   * three times the heap through the allocator's fragmentation).
   */
  private readonly pending = new Map<number, { bytes: Buffer; fill: number }>();

  constructor(
    formats: Iterable<string | EventFormat>,
    readonly aggregate = new GuestAggregate(),
    private readonly markers: PcMarkers = DEFAULT_PC_MARKERS,
    private readonly layout: PageLayout = DEFAULT_PAGE_LAYOUT,
    /** The ring buffer's page size (events/header_page: data offset + data size). */
    readonly pageSize = 4096,
  ) {
    for (const f of formats) {
      const format = typeof f === 'string' ? compileFormat(f) : f;
      this.formats.set(format.id, format);
    }
  }

  private room(cpu: number, bytes: number): { bytes: Buffer; fill: number } {
    let p = this.pending.get(cpu);
    if (!p) this.pending.set(cpu, (p = { bytes: Buffer.allocUnsafe(Math.max(bytes, 64 * this.pageSize)), fill: 0 }));
    if (p.fill + bytes > p.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(p.fill + bytes, 2 * p.bytes.length));
      p.bytes.copy(grown, 0, 0, p.fill);
      p.bytes = grown;
    }
    return p;
  }

  /** Whole pages from one CPU's trace_pipe_raw, given (a recording, a test). */
  feed(cpu: number, bytes: Buffer): void {
    const p = this.room(cpu, bytes.length);
    p.fill += bytes.copy(p.bytes, p.fill);
  }

  /**
   * Reads one CPU's pages with `read` (a read(2) of trace_pipe_raw: bytes read, 0 when there are
   * none now) into this CPU's buffer, up to `maxBytes`. Returns bytes read.
   */
  readFrom(cpu: number, read: (into: Buffer, offset: number, length: number) => number, maxBytes: number): number {
    const chunk = 64 * this.pageSize;
    let total = 0;
    while (total < maxBytes) {
      const p = this.room(cpu, chunk);
      const n = read(p.bytes, p.fill, chunk);
      if (n <= 0) break;
      p.fill += n;
      total += n;
    }
    return total;
  }

  /**
   * Hands what was fed since the last flush to the aggregate, all CPUs merged in time order:
   * one cursor per CPU walks its pages, and the earliest record is read next (no object is made
   * for a record before it is read: a flood's records would otherwise all outlive a collection).
   */
  flush(): void {
    const cursors: RecordCursor[] = [];
    for (const p of this.pending.values()) {
      if (p.fill === 0) continue;
      const c = new RecordCursor(p.bytes.subarray(0, p.fill), this.layout, this.pageSize);
      p.fill = 0;
      if (c.next()) cursors.push(c);
      else this.aggregate.lost += c.lost;
    }
    while (cursors.length) {
      let best = 0;
      for (let k = 1; k < cursors.length; k++) if (cursors[k].timeNs < cursors[best].timeNs) best = k;
      const c = cursors[best];
      this.read(c.pages, c.at, c.size, c.timeNs);
      if (!c.next()) {
        this.aggregate.lost += c.lost;
        cursors.splice(best, 1);
      }
    }
  }

  private read(r: Buffer, at: number, size: number, timeNs: number): void {
    const format = this.formats.get(r.readUInt16LE(at));
    if (!format) return;
    // µs as the kernel prints them (ns2usecs rounds), so times compare with its text.
    const line = { tid: r.readInt32LE(at + COMMON_PID), timeUs: Math.floor((timeNs + 500) / 1000), event: format.name, payload: format.print(r, at, size) };
    this.aggregate.add(toGuestEvent(line, this.markers));
  }
}
