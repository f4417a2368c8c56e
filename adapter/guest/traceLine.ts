// Lines of tracefs's text output (trace_pipe), split without regular expressions and without a
// string per line: a stuck guest makes ~500,000 of them a second. A chunk read is made one flat
// string once; fields are found by char codes in it and only the event's text is sliced out.
//
//            exe-27020   [001] d..1.  4521.338214: kvm_entry: vcpu 0, rip 0x47e0a0 ...
//   task name-thread id  [cpu] flags  seconds     : event    : the event's own text

export interface TraceLine {
  /** The thread id (the number after the task name). */
  tid: number;
  /** Time stamp in microseconds (the trace clock's "seconds.micros"). */
  timeUs: number;
  event: string;
  /** The event's own text, as its print format made it. */
  payload: string;
}

const SPACE = 32;

/** Event names seen: one string per name, however many lines carry it. */
const names = new Map<string, string>();

/** A copy of a short string that does not keep the (megabyte) chunk it was sliced from alive. */
export function detached(s: string): string {
  return (' ' + s).slice(1);
}

function internName(text: string, from: number, to: number): string {
  const slice = text.slice(from, to);
  const known = names.get(slice);
  if (known !== undefined) return known;
  const name = detached(slice);
  if (names.size < 4096) names.set(name, name);
  return name;
}

/**
 * Reads the complete lines of `text`: each trace line is given to `onLine`, any other line
 * (a "CPU:1 [LOST 42 EVENTS]" note) to `onOther`. Returns where the unfinished last line starts.
 */
export function scanTraceLines(text: string, onLine: (line: TraceLine) => void, onOther?: (line: string) => void): number {
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return start;
    const line = parseRange(text, start, nl);
    if (line) onLine(line);
    else if (onOther && nl > start) onOther(text.slice(start, nl));
    start = nl + 1;
  }
}

/** One line. */
export function parseTraceLine(line: string): TraceLine | undefined {
  return parseRange(line, 0, line.length);
}

/** Where the kernel's "%16s-%-7d [" puts the bracket: a fast path before searching for it. */
const FIXED_BRACKET = 25;

function parseRange(text: string, from: number, to: number): TraceLine | undefined {
  // The task name may hold spaces and dashes; "-TID [CPU]" ends at the first " [".
  let bracket = from + FIXED_BRACKET;
  if (!(text.charCodeAt(bracket) === 91 && text.charCodeAt(bracket - 1) === SPACE)) {
    bracket = text.indexOf(' [', from) + 1;
    if (bracket <= 0 || bracket >= to) return undefined;
  }
  let tidEnd = bracket - 1;
  while (tidEnd > from && text.charCodeAt(tidEnd - 1) === SPACE) tidEnd--;
  let tid = 0;
  let scale = 1;
  let i = tidEnd - 1;
  for (; i >= from; i--) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    tid += d * scale;
    scale *= 10;
  }
  if (i < from || i === tidEnd - 1 || text.charCodeAt(i) !== 45) return undefined;
  // "] flags  seconds.micros: event: payload"
  const close = text.indexOf(']', bracket);
  const stampEnd = close < 0 ? -1 : text.indexOf(': ', close);
  if (stampEnd < 0 || stampEnd >= to) return undefined;
  let stampStart = stampEnd - 1;
  while (stampStart > close && text.charCodeAt(stampStart - 1) !== SPACE) stampStart--;
  const dot = text.indexOf('.', stampStart);
  if (dot < 0 || dot >= stampEnd) return undefined;
  const whole = digits(text, stampStart, dot);
  // µs: a ns clock prints 9 digits, the rest are cut.
  const fractionEnd = Math.min(stampEnd, dot + 7);
  const fraction = digits(text, dot + 1, fractionEnd);
  if (whole < 0 || fraction < 0) return undefined;
  const timeUs = whole * 1_000_000 + fraction * 10 ** (7 - (fractionEnd - dot));
  const nameEnd = text.indexOf(': ', stampEnd + 2);
  if (nameEnd < 0 || nameEnd >= to) return undefined;
  return { tid, timeUs, event: internName(text, stampEnd + 2, nameEnd), payload: text.slice(nameEnd + 2, to) };
}

/** The decimal number in text[from, to), or -1. */
function digits(text: string, from: number, to: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
