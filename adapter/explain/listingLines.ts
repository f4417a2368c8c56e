// The lines of a listing read as a stream, each at most `maxBytes` long: a listing has short
// lines, and holding an unbounded one (/dev/zero, a 1 GB line) ends in RangeError: Invalid
// string length. A line ends at LF; a CR before it is dropped (CRLF listings).

/** A line longer than the bound: the input is not a listing (or not a line-oriented text at all). */
export class LineTooLongError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly maxBytes: number,
  ) {
    super(`line ${lineNumber} is longer than ${maxBytes / (1 << 20)} MiB`);
  }
}

/** Generic Go names make long lines (100 KB seen); 16 MiB is far beyond any real one. */
export const MAX_LISTING_LINE_BYTES = 16 << 20;

export async function* boundedLines(input: AsyncIterable<Buffer | string>, maxBytes = MAX_LISTING_LINE_BYTES): AsyncGenerator<string> {
  let pieces: Buffer[] = [];
  let pending = 0;
  let lineNumber = 0;
  const line = (last: Buffer) => {
    lineNumber++;
    const bytes = pieces.length ? Buffer.concat([...pieces, last]) : last;
    pieces = [];
    pending = 0;
    const end = bytes.length && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    return bytes.toString('utf8', 0, end);
  };
  for await (const data of input) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; start = nl + 1, nl = chunk.indexOf(10, start)) {
      if (pending + nl - start > maxBytes) throw new LineTooLongError(lineNumber + 1, maxBytes);
      yield line(chunk.subarray(start, nl));
    }
    if (start < chunk.length) {
      pending += chunk.length - start;
      if (pending > maxBytes) throw new LineTooLongError(lineNumber + 1, maxBytes);
      pieces.push(chunk.subarray(start));
    }
  }
  if (pending) yield line(Buffer.alloc(0));
}
