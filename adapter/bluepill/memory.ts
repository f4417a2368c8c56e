// Reads the debuggee's memory through dlv, with the proxy's own `evaluate`
// requests: dlv's readMemory only takes references it handed out, but an
// expression like *(*[16]uint8)(uintptr(0xADDR)) reads anything mapped. It needs
// the id of a frame that has a symbol (any thread's: memory is shared). Reads use
// the "clipboard" context, where dlv does not shorten long values with "...".
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyContext } from '../dap/hooks';
import { parseWordArray } from './ucontext';

export async function evaluateText(ctx: ProxyContext, expression: string, frameId: number, context: 'watch' | 'clipboard' = 'watch'): Promise<string | undefined> {
  const r = (await ctx.requestDlv('evaluate', { expression, frameId, context })) as DebugProtocol.EvaluateResponse;
  return r.success ? r.body?.result : undefined;
}

/** Reads `count` bytes at `address`; undefined when unmapped or not readable. */
export async function readBytes(ctx: ProxyContext, address: bigint, count: number, frameId: number): Promise<Buffer | undefined> {
  const text = await evaluateText(ctx, `*(*[${count}]uint8)(uintptr(0x${address.toString(16)}))`, frameId, 'clipboard');
  const values = text !== undefined ? parseWordArray(text) : undefined;
  return values && values.length === count ? Buffer.from(values.map(Number)) : undefined;
}

/** Reads `count` little-endian 64-bit words at `address`. */
export async function readWords(ctx: ProxyContext, address: bigint, count: number, frameId: number): Promise<bigint[] | undefined> {
  const text = await evaluateText(ctx, `*(*[${count}]uint64)(uintptr(0x${address.toString(16)}))`, frameId, 'clipboard');
  const values = text !== undefined ? parseWordArray(text) : undefined;
  return values && values.length === count ? values : undefined;
}

/** A register or simple expression as a number (dlv prints e.g. "6112523423264 = 0x58f2ec98e20" or "0x..."). */
export async function evaluateNumber(ctx: ProxyContext, expression: string, frameId: number): Promise<bigint | undefined> {
  const text = await evaluateText(ctx, expression, frameId);
  if (text === undefined) return undefined;
  const hex = /0x[0-9a-f]+/i.exec(text);
  if (hex) return BigInt(hex[0]);
  const dec = /^-?\d+/.exec(text.trim());
  return dec ? BigInt.asUintN(64, BigInt(dec[0])) : undefined;
}
