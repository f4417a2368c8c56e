// Reads the debuggee's memory through dlv, with the proxy's own `evaluate`
// requests. dlv 1.27.2's readMemory takes only the references it handed out (the
// slices and strings among a variable's children, forgotten at every stop:
// service/dap/server.go, referencesCollection), so an arbitrary address is read
// with an expression like *(*[64]uint64)(uintptr(0xADDR)). dlv loads at most 64
// elements of an array, so longer reads go in chunks of 64 words (512 bytes),
// sent together (dlv answers them in order). It needs the id of a frame that has
// a symbol (any thread's: memory is shared). Reads use the "clipboard" context,
// where dlv does not shorten long values with "...".
import type { DebugProtocol } from '@vscode/debugprotocol';
import { parseWordArray } from './ucontext';

/** dlv's default maxArrayValues: the longest array one evaluate returns whole. */
const ELEMENTS_PER_READ = 64;
const CHUNK_BYTES = ELEMENTS_PER_READ * 8;

/** Whoever sends dlv requests of the proxy's own (the session's context). */
export interface Requester {
  requestDlv(command: string, args?: unknown): Promise<DebugProtocol.Response>;
}

export async function evaluateText(ctx: Requester, expression: string, frameId: number | undefined, context: 'watch' | 'clipboard' | 'repl' = 'watch'): Promise<string | undefined> {
  const r = (await ctx.requestDlv('evaluate', { expression, frameId, context })) as DebugProtocol.EvaluateResponse;
  return r.success ? r.body?.result : undefined;
}

/** `count` elements of `type` at `address` (count ≤ 64), or undefined. */
async function readArray(ctx: Requester, type: 'uint8' | 'uint64', address: bigint, count: number, frameId: number): Promise<bigint[] | undefined> {
  const text = await evaluateText(ctx, `*(*[${count}]${type})(uintptr(0x${address.toString(16)}))`, frameId, 'clipboard');
  const values = text !== undefined ? parseWordArray(text) : undefined;
  return values && values.length === count ? values : undefined;
}

function wordsToBytes(words: bigint[]): Buffer {
  const b = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => b.writeBigUInt64LE(w, i * 8));
  return b;
}

/**
 * Reads up to `count` bytes at `address`: all of them, or the readable part before
 * the first unreadable chunk (code that ends at an unmapped page); undefined when
 * nothing is readable.
 */
export async function readBytesPrefix(ctx: Requester, address: bigint, count: number, frameId: number): Promise<Buffer | undefined> {
  const parts: Array<Promise<Buffer | undefined>> = [];
  // Chunks end on 512-byte boundaries, so one never straddles the end of a page.
  for (let offset = 0, size = 0; offset < count; offset += size) {
    const at = address + BigInt(offset);
    size = Math.min(CHUNK_BYTES - Number(at % BigInt(CHUNK_BYTES)), count - offset);
    const words = Math.floor(size / 8);
    const tail = size % 8;
    parts.push(
      (async () => {
        const [w, b] = await Promise.all([words ? readArray(ctx, 'uint64', at, words, frameId) : [], tail ? readArray(ctx, 'uint8', at + BigInt(words * 8), tail, frameId) : []]);
        return w && b ? Buffer.concat([wordsToBytes(w), Buffer.from(b.map(Number))]) : undefined;
      })(),
    );
  }
  const chunks = await Promise.all(parts);
  const readable = chunks.findIndex((c) => c === undefined);
  const got = Buffer.concat((readable < 0 ? chunks : chunks.slice(0, readable)) as Buffer[]);
  return got.length ? got : undefined;
}

/** Reads exactly `count` bytes at `address`; undefined when any of them is unmapped or not readable. */
export async function readBytes(ctx: Requester, address: bigint, count: number, frameId: number): Promise<Buffer | undefined> {
  const got = await readBytesPrefix(ctx, address, count, frameId);
  return got && got.length === count ? got : undefined;
}

/** Reads `count` little-endian 64-bit words at `address`. */
export async function readWords(ctx: Requester, address: bigint, count: number, frameId: number): Promise<bigint[] | undefined> {
  const bytes = await readBytes(ctx, address, count * 8, frameId);
  return bytes ? Array.from({ length: count }, (_, i) => bytes.readBigUInt64LE(i * 8)) : undefined;
}

/** A register or simple expression as a number (dlv prints e.g. "6112523423264 = 0x58f2ec98e20" or "0x..."). */
export async function evaluateNumber(ctx: Requester, expression: string, frameId: number): Promise<bigint | undefined> {
  const text = await evaluateText(ctx, expression, frameId);
  // dlv answers a variable it cannot read with success and "(unreadable …0x1fea2…)": no number.
  if (text === undefined || /^\(unreadable\b/.test(text.trim())) return undefined;
  const hex = /0x[0-9a-f]+/i.exec(text);
  if (hex) return BigInt(hex[0]);
  const dec = /^-?\d+/.exec(text.trim());
  return dec ? BigInt.asUintN(64, BigInt(dec[0])) : undefined;
}
