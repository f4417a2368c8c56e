// An address as a client sends it in a custom request: a string of hex digits, with or without
// 0x (in either case) and surrounding spaces, at most 16 digits (64 bits). Anything else: undefined.

export const HEX_ADDRESS_HINT = 'an address in hex, at most 16 digits, e.g. 0xc000012345';

export function parseHexAddress(value: unknown): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(?:0x)?([0-9a-f]{1,16})$/i.exec(value.trim());
  return m ? BigInt(`0x${m[1]}`) : undefined;
}
