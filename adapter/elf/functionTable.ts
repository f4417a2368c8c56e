// An ELF file's function symbols in flat arrays: address, size and name offset per function,
// the names left in the file's own string table and decoded only when asked for. A runsc binary
// has ~60,000 functions; as objects with a string and a BigInt each they took 30 MB of a guest
// trace's memory, as arrays they take ~1 MB plus the string table.
import { boundedNames, parseSections, stringTable, withElfFile, type ElfInfo } from './sections';

const SHT_SYMTAB = 2;
const STT_FUNC = 2;
/** Above this an address cannot be held exactly in a double; no function of a user-space binary is there. */
const MAX_EXACT = 2n ** 53n;

export interface FunctionAt {
  name: string;
  address: bigint;
  size: number;
  offset: bigint;
}

export class FunctionTable {
  private constructor(
    readonly info: ElfInfo,
    /** Sorted by address. */
    private readonly addresses: Float64Array,
    private readonly sizes: Float64Array,
    private readonly nameOffsets: Uint32Array,
    private readonly nameAt: (offset: number) => string,
  ) {}

  get length(): number {
    return this.addresses.length;
  }

  static read(file: string): FunctionTable {
    return withElfFile(file, (read) => {
      const info = parseSections(read, file);
      const symtab = info.sections.find((s) => s.type === SHT_SYMTAB);
      if (!symtab) return new FunctionTable(info, new Float64Array(0), new Float64Array(0), new Uint32Array(0), () => '');
      const strtab = info.sections[symtab.link];
      const names = strtab ? stringTable(read(strtab.offset, strtab.size), file, 'symbol name table') : Buffer.alloc(0);
      const table = read(symtab.offset, symtab.size);
      const entry = info.is64 ? 24 : 16;
      const le = info.littleEndian;
      const picked: number[] = [];
      for (let o = 0; o + entry <= table.length; o += entry) if ((table[o + (info.is64 ? 4 : 12)] & 0xf) === STT_FUNC) picked.push(o);
      const address = (o: number) => (info.is64 ? Number(le ? table.readBigUInt64LE(o + 8) : table.readBigUInt64BE(o + 8)) : le ? table.readUInt32LE(o + 4) : table.readUInt32BE(o + 4));
      const order = picked.map((o) => [address(o), o] as const).sort((a, b) => a[0] - b[0]);
      const addresses = new Float64Array(order.length);
      const sizes = new Float64Array(order.length);
      const nameOffsets = new Uint32Array(order.length);
      order.forEach(([a, o], i) => {
        addresses[i] = a;
        sizes[i] = info.is64 ? Number(le ? table.readBigUInt64LE(o + 16) : table.readBigUInt64BE(o + 16)) : le ? table.readUInt32LE(o + 8) : table.readUInt32BE(o + 8);
        nameOffsets[i] = le ? table.readUInt32LE(o) : table.readUInt32BE(o);
      });
      // Decoded names are remembered only for the functions asked about (boundedNames caches by offset).
      return new FunctionTable(info, addresses, sizes, nameOffsets, boundedNames(names));
    });
  }

  /** The function containing `address`, and the offset into it. */
  lookup(address: bigint): FunctionAt | undefined {
    if (address < 0n || address >= MAX_EXACT) return undefined;
    const a = Number(address);
    let lo = 0;
    let hi = this.addresses.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.addresses[mid] <= a) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const start = this.addresses[hi];
    const offset = a - start;
    if (offset >= Math.max(this.sizes[hi], 1)) return undefined;
    return { name: this.nameAt(this.nameOffsets[hi]), address: BigInt(start), size: this.sizes[hi], offset: BigInt(offset) };
  }
}
