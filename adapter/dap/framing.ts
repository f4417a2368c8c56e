// DAP's wire format, read strictly: `Content-Length: N\r\n\r\n` then N bytes of JSON.
// ProtocolServer's own reader accepts anything (a missing or negative length, a body
// of 1 TB it will wait for forever); a debug session cannot recover from a stream that
// has lost its frame boundaries, so here such a frame is an error the caller ends on.

/** Larger than any real DAP message (dlv's biggest are a few MB of variables). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** A header block longer than this is not a DAP header. */
const MAX_HEADER_BYTES = 1024;
const SEPARATOR = Buffer.from('\r\n\r\n');

export class FrameError extends Error {}

/** Splits a byte stream into JSON bodies. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  private bodyLength = -1;
  private failed = false;

  /**
   * Feeds bytes; calls `onBody` with each complete body's text, in order.
   * Throws a FrameError on a broken frame, and refuses all input after that.
   */
  push(chunk: Buffer, onBody: (json: string) => void): void {
    if (this.failed) return;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    try {
      this.drain(onBody);
    } catch (e) {
      if (e instanceof FrameError) {
        this.failed = true;
        this.buffered = Buffer.alloc(0);
      }
      throw e;
    }
  }

  private drain(onBody: (json: string) => void): void {
    for (;;) {
      if (this.bodyLength < 0) {
        const end = this.buffered.indexOf(SEPARATOR);
        if (end < 0) {
          if (this.buffered.length > MAX_HEADER_BYTES) throw new FrameError(`no end of header after ${MAX_HEADER_BYTES} bytes (${preview(this.buffered)})`);
          return;
        }
        this.bodyLength = contentLength(this.buffered.toString('latin1', 0, end));
        this.buffered = this.buffered.subarray(end + SEPARATOR.length);
      }
      if (this.buffered.length < this.bodyLength) return;
      const body = this.buffered.toString('utf8', 0, this.bodyLength);
      this.buffered = this.buffered.subarray(this.bodyLength);
      this.bodyLength = -1;
      onBody(body);
    }
  }
}

/** The body length a header block declares; throws on anything that is not a DAP header. */
export function contentLength(header: string): number {
  // What every DAP peer writes: one line, read without splitting.
  const plain = /^Content-Length: (\d{1,10})$/.exec(header);
  if (plain && Number(plain[1]) <= MAX_FRAME_BYTES) return Number(plain[1]);
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FrameError(`a header line is not "Name: value": ${preview(line)}`);
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,10}$/.test(value)) throw new FrameError(`Content-Length is not a number of bytes: ${preview(value)}`);
    length = Number(value);
  }
  if (length === undefined) throw new FrameError(`a header has no Content-Length: ${preview(header)}`);
  if (length > MAX_FRAME_BYTES) throw new FrameError(`Content-Length ${length} is over the ${MAX_FRAME_BYTES / 1024 / 1024} MB limit`);
  return length;
}

/** One frame's bytes, for writing. */
export function frame(json: string): string {
  return `Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`;
}

function preview(text: string | Buffer, n = 60): string {
  const s = typeof text === 'string' ? text : text.toString('latin1', 0, n + 1);
  return JSON.stringify(s.length > n ? `${s.slice(0, n)}…` : s);
}
