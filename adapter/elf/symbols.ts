// Reads an ELF file's function symbols (.symtab) without loading the whole file:
// enough to name addresses offline and to tell gVisor's variants apart.
import type { GoLineTable } from './goLineTable';
import * as fs from 'node:fs';
import { boundedNames, parseSections, stringTable, withElfFile, type ElfInfo, type ReadAt } from './sections';

export interface ElfSymbol {
  name: string;
  address: bigint;
  size: number;
}

const SHT_SYMTAB = 2;
const STT_FUNC = 2;

export interface ElfSymbols {
  info: ElfInfo;
  /** Functions sorted by address. */
  functions: ElfSymbol[];
  /** The Go line table, once read (null: the file has none that reads); kept with the symbols, so cached with them. */
  goLines?: GoLineTable | null;
}

export function readElfFunctions(file: string): ElfSymbols {
  return withElfFile(file, (read) => {
    const info = parseSections(read, file);
    return { info, functions: parseFunctions(info, read, file) };
  });
}

/** Pure part: the function symbols of .symtab, read with `read` (see parseSections). */
export function parseFunctions(info: ElfInfo, read: ReadAt, label = 'file'): ElfSymbol[] {
  const symtab = info.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  // sh_link out of range: the symbols keep their addresses, with empty names.
  const strtab = info.sections[symtab.link];
  const table = read(symtab.offset, symtab.size);
  const names = strtab ? stringTable(read(strtab.offset, strtab.size), label, 'symbol name table') : Buffer.alloc(0);
  const entry = info.is64 ? 24 : 16;
  const nameAt = boundedNames(names);
  const functions: ElfSymbol[] = [];
  for (let o = 0; o + entry <= table.length; o += entry) {
    const nameOffset = info.littleEndian ? table.readUInt32LE(o) : table.readUInt32BE(o);
    const typeInfo = table[o + (info.is64 ? 4 : 12)];
    if ((typeInfo & 0xf) !== STT_FUNC) continue;
    const address = info.is64 ? (info.littleEndian ? table.readBigUInt64LE(o + 8) : table.readBigUInt64BE(o + 8)) : BigInt(info.littleEndian ? table.readUInt32LE(o + 4) : table.readUInt32BE(o + 4));
    const size = Number(info.is64 ? (info.littleEndian ? table.readBigUInt64LE(o + 16) : table.readBigUInt64BE(o + 16)) : BigInt(info.littleEndian ? table.readUInt32LE(o + 8) : table.readUInt32BE(o + 8)));
    functions.push({ name: nameAt(nameOffset), address, size });
  }
  functions.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return functions;
}

const cache = new Map<string, { mtimeMs: number; symbols: ElfSymbols }>();

/** readElfFunctions, read once per file version (a runsc binary is ~100 MB). */
export function cachedElfFunctions(file: string): ElfSymbols {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.symbols;
  const symbols = readElfFunctions(file);
  cache.set(file, { mtimeMs, symbols });
  return symbols;
}

/** "function+0xoffset" at `address` (the function's name through `clean`), or undefined outside every function. */
export function nameWithOffset(functions: ElfSymbol[], address: bigint, clean: (name: string) => string = (n) => n): string | undefined {
  const hit = symbolize(functions, address);
  return hit ? `${clean(hit.symbol.name)}${hit.offset ? `+0x${hit.offset.toString(16)}` : ''}` : undefined;
}

/** The function containing `address`, and the offset into it. */
export function symbolize(functions: ElfSymbol[], address: bigint): { symbol: ElfSymbol; offset: bigint } | undefined {
  let lo = 0;
  let hi = functions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (functions[mid].address <= address) lo = mid + 1;
    else hi = mid - 1;
  }
  const symbol = functions[hi];
  if (!symbol) return undefined;
  const offset = address - symbol.address;
  return offset < BigInt(Math.max(symbol.size, 1)) ? { symbol, offset } : undefined;
}
