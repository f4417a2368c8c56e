// Annotates `go tool objdump` (and dlv disassembly) text as a stream, in constant
// memory: only lines holding "MRS " or "MSR " are decoded and rewritten; every
// other byte is passed through as the same Buffer slice.
import { Transform, type TransformCallback } from 'node:stream';
import { annotateInstruction } from '../arm64/goSyntax';

const NEEDLES = [Buffer.from('MRS '), Buffer.from('MSR ')];
const NEWLINE = 10;
const TAB = 9;
const SPACE = 32;
const CR = 13;

/** Rewrites one line if its instruction (the text after the last tab) is a system register move. */
export function annotateLine(line: string): string {
  // go tool objdump pads the instruction column with trailing tabs: keep them, after the note.
  const body = line.trimEnd();
  const tab = body.lastIndexOf('\t');
  const column = body.slice(tab + 1);
  // `go tool objdump -gnu` follows the instruction with binutils' text: the note goes before it.
  const gnu = /^(.*?\S)(\s+\/\/ (?:mrs|msr) [^/]*)$/.exec(column);
  const annotated = annotateInstruction(gnu ? gnu[1] : column);
  return annotated === undefined ? line : body.slice(0, tab + 1) + annotated + (gnu ? gnu[2] : '') + line.slice(body.length);
}

/** A line not yet ended is held up to this size; past it, all but its last KEEP bytes are passed on. */
const LONG_LINE = 1 << 20;
/** Enough for the instruction column (the last tab on): a real MRS/MSR with its padding is < 100 bytes. */
const KEEP = 64 << 10;

export class ObjdumpAnnotator extends Transform {
  /** The start of a line not yet ended, in pieces: joined once its newline comes (joining at
   * every chunk copied a 10 MB line 160 times). */
  private carry: Buffer[] = [];
  private carried = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (chunk.lastIndexOf(NEWLINE) < 0) {
      if (chunk.length) this.carry.push(Buffer.from(chunk)); // copy: the piece must not pin a larger buffer
      this.carried += chunk.length;
      if (this.carried > LONG_LINE) this.passOnLongLine();
      done();
      return;
    }
    const data = this.carry.length ? Buffer.concat([...this.carry, chunk]) : chunk;
    const end = data.lastIndexOf(NEWLINE) + 1;
    this.carry = end < data.length ? [Buffer.from(data.subarray(end))] : []; // copy: the tail must not pin the whole chunk
    this.carried = data.length - end;
    this.annotate(data.subarray(0, end));
    if (this.carried > LONG_LINE) this.passOnLongLine();
    done();
  }

  /**
   * Memory stays constant on a line of any length (a 1 GB line took 2.1 GB): only the end of a
   * line can be rewritten (its instruction column), so the bytes before its last KEEP go out as
   * they are.
   */
  private passOnLongLine(): void {
    const data = Buffer.concat(this.carry);
    this.push(data.subarray(0, data.length - KEEP));
    this.carry = [Buffer.from(data.subarray(data.length - KEEP))];
    this.carried = KEEP;
  }

  override _flush(done: TransformCallback): void {
    if (this.carry.length) this.annotate(Buffer.concat(this.carry));
    done();
  }

  private annotate(data: Buffer): void {
    let emitted = 0;
    let from = 0;
    for (;;) {
      const hit = nextHit(data, from);
      if (hit < 0) break;
      const start = data.lastIndexOf(NEWLINE, hit) + 1;
      let stop = data.indexOf(NEWLINE, hit);
      if (stop < 0) stop = data.length;
      let tab = data.lastIndexOf(TAB, hit);
      // No column before the hit (a long line's kept end starts mid-line): its last column may still be one.
      if (tab < start) tab = lastColumn(data, start, stop);
      from = stop;
      if (tab < 0) continue;
      // Only the text from that tab on is decoded and rewritten: the bytes before it (a path
      // that is not UTF-8, say) pass through as they are, not as U+FFFD.
      const tail = data.toString('utf8', tab, stop);
      const rewritten = annotateLine(tail);
      if (rewritten === tail) continue;
      if (tab > emitted) this.push(data.subarray(emitted, tab));
      this.push(Buffer.from(rewritten, 'utf8'));
      emitted = stop;
    }
    if (emitted < data.length) this.push(data.subarray(emitted));
  }
}

/** The tab that starts a line's last column (before its trailing padding), or -1. */
function lastColumn(data: Buffer, start: number, stop: number): number {
  let end = stop;
  while (end > start && (data[end - 1] === TAB || data[end - 1] === SPACE || data[end - 1] === CR)) end--;
  const tab = end > start ? data.lastIndexOf(TAB, end - 1) : -1;
  return tab >= start ? tab : -1;
}

function nextHit(data: Buffer, from: number): number {
  let best = -1;
  for (const needle of NEEDLES) {
    const i = data.indexOf(needle, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
