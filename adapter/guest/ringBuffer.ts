// Pages of the kernel's trace ring buffer, as per_cpu/cpuN/trace_pipe_raw gives them: a page
// header (time stamp, commit = bytes used, with the "events were lost" flags) and then records,
// each behind a 32-bit header of type_len (5 bits) and time_delta (27 bits). The layout is the
// one events/header_page and events/header_event describe (kernel/trace/ring_buffer.c).

/** Where the page header keeps its fields: from events/header_page (x86-64 and arm64: 0, 8, 16). */
export interface PageLayout {
  timestampOffset: number;
  commitOffset: number;
  commitSize: 4 | 8;
  dataOffset: number;
}

export const DEFAULT_PAGE_LAYOUT: PageLayout = { timestampOffset: 0, commitOffset: 8, commitSize: 8, dataOffset: 16 };

/** events/header_page read: the offsets of timestamp, commit and data. */
export function pageLayoutFrom(headerPage: string): PageLayout {
  const field = (name: string) => {
    const m = new RegExp(`field:[^;]*\\b${name};\\s*offset:(\\d+);\\s*size:(\\d+);`).exec(headerPage);
    return m ? { offset: Number(m[1]), size: Number(m[2]) } : undefined;
  };
  const [ts, commit, data] = [field('timestamp'), field('commit'), field('data')];
  if (!ts || !commit || !data) return DEFAULT_PAGE_LAYOUT;
  return { timestampOffset: ts.offset, commitOffset: commit.offset, commitSize: commit.size === 4 ? 4 : 8, dataOffset: data.offset };
}

const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TYPE_TIME_STAMP = 31;
const MISSED_EVENTS = 2 ** 31;
const MISSED_STORED = 2 ** 30;
const TS_SHIFT = 2 ** 27;

export interface PageRecords {
  /** Called for each record: its bytes are record[at, at + size), its time in ns of the trace clock. */
  onRecord(record: Buffer, at: number, size: number, timeNs: number): void;
  /** Events the kernel dropped before these pages (a page that says "some" without a count adds one). */
  onLost(count: number): void;
}

/**
 * Walks the records of a run of pages one at a time, with no object per record: after next()
 * returns true, `at` and `size` locate the record in `pages` and `timeNs` is its time. Time
 * stamps are kept in a double: ns of CLOCK_MONOTONIC stay exact below 2^53 ns (104 days of
 * uptime) and lose sub-µs digits only beyond.
 */
export class RecordCursor {
  at = 0;
  size = 0;
  timeNs = 0;
  /** Events the kernel dropped before the pages walked so far (a page that says "some" without a count adds one). */
  lost = 0;
  private page = -1;
  private next_ = 0;
  private end = 0;

  constructor(
    readonly pages: Buffer,
    private readonly layout: PageLayout = DEFAULT_PAGE_LAYOUT,
    private readonly pageSize = 4096,
  ) {}

  next(): boolean {
    const p = this.pages;
    for (;;) {
      if (this.next_ + 4 > this.end && !this.nextPage()) return false;
      const at = this.next_;
      const header = p.readUInt32LE(at);
      const type = header & 31;
      const delta = header >>> 5;
      if (type === TYPE_PADDING) {
        // Padding with no delta ends the page's data; else it is a discarded record of `length` bytes.
        if (delta === 0 || at + 8 > this.end) this.next_ = this.end;
        else this.next_ = at + 4 + p.readUInt32LE(at + 4);
        continue;
      }
      if (type === TYPE_TIME_EXTEND || type === TYPE_TIME_STAMP) {
        if (at + 8 > this.end) {
          this.next_ = this.end;
          continue;
        }
        const high = p.readUInt32LE(at + 4) * TS_SHIFT + delta;
        this.timeNs = type === TYPE_TIME_EXTEND ? this.timeNs + high : high;
        this.next_ = at + 8;
        continue;
      }
      let data: number;
      let size: number;
      if (type === 0) {
        if (at + 8 > this.end) {
          this.next_ = this.end;
          continue;
        }
        // A long record: its length (counting the length word itself) follows the header.
        size = (p.readUInt32LE(at + 4) - 4 + 3) & ~3;
        data = at + 8;
      } else {
        size = type * 4;
        data = at + 4;
      }
      if (size <= 0 || data + size > this.end) {
        this.next_ = this.end;
        continue;
      }
      this.timeNs += delta;
      this.at = data;
      this.size = size;
      this.next_ = data + size;
      return true;
    }
  }

  private nextPage(): boolean {
    const { layout, pages } = this;
    for (;;) {
      this.page++;
      const start = this.page * this.pageSize;
      if (start + layout.dataOffset > pages.length) return false;
      this.timeNs = Number(pages.readBigUInt64LE(start + layout.timestampOffset));
      const commitLow = pages.readUInt32LE(start + layout.commitOffset);
      // The flags sit in bits 31 and 30 of the commit word (of its low half on 64-bit kernels).
      const used = commitLow & (MISSED_STORED - 1);
      this.end = Math.min(pages.length, start + this.pageSize, start + layout.dataOffset + used);
      if (commitLow & MISSED_EVENTS) this.lost += commitLow & MISSED_STORED && this.end + 8 <= pages.length ? Number(pages.readBigUInt64LE(this.end)) : 1;
      this.next_ = start + layout.dataOffset;
      if (this.next_ < this.end) return true;
    }
  }
}

/** Reads the records of one page (or of a run of whole pages), for callers that want a callback each. */
export function readPage(page: Buffer, sink: PageRecords, layout: PageLayout = DEFAULT_PAGE_LAYOUT, pageSize = 4096): void {
  const c = new RecordCursor(page, layout, pageSize);
  while (c.next()) sink.onRecord(page, c.at, c.size, c.timeNs);
  if (c.lost) sink.onLost(c.lost);
}
