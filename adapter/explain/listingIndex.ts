// An index of a listing's TEXT blocks, built in slices so a 50 MB document never
// blocks its host for long: name, header line, last line, first and last address.
// Lookups (address → block, name → block) are binary searches and map hits.
import { parseInstructionLine, parseTextLine } from './listing';

export interface TextBlock {
  name: string;
  file: string;
  headerLine: number;
  lastLine: number;
  firstAddress?: number;
  lastAddress?: number;
}

export interface LineSource {
  lineCount: number;
  lineAt(n: number): string;
}

const SLICE = 50_000;

export class ListingIndex {
  readonly blocks: TextBlock[] = [];
  private byName = new Map<string, TextBlock>();
  private byAddress: TextBlock[] = [];

  /** Builds the index, yielding to the event loop every SLICE lines. */
  static async build(source: LineSource, yieldEvery = SLICE): Promise<ListingIndex> {
    const index = new ListingIndex();
    let current: TextBlock | undefined;
    for (let n = 0; n < source.lineCount; n++) {
      if (n > 0 && n % yieldEvery === 0) await new Promise((r) => setImmediate(r));
      const line = source.lineAt(n);
      if (line.startsWith('TEXT ')) {
        const header = parseTextLine(line);
        if (header) {
          current = { name: header.name, file: header.file, headerLine: n, lastLine: n };
          index.blocks.push(current);
          continue;
        }
      }
      if (!current) continue;
      // Only lines that look like instructions are parsed: a quick test first.
      if (line.includes('0x')) {
        const ins = parseInstructionLine(line);
        if (ins) {
          const a = Number(ins.address);
          current.firstAddress ??= a;
          current.lastAddress = a;
          current.lastLine = n;
          continue;
        }
      }
      if (line.trim()) current.lastLine = n;
    }
    for (const b of index.blocks) if (!index.byName.has(b.name)) index.byName.set(b.name, b);
    index.byAddress = index.blocks.filter((b) => b.firstAddress !== undefined).sort((a, b) => a.firstAddress! - b.firstAddress!);
    return index;
  }

  blockNamed(name: string): TextBlock | undefined {
    return this.byName.get(name) ?? this.byName.get(name.replace(/\(SB\)$/, ''));
  }

  blockAt(address: number): TextBlock | undefined {
    let lo = 0;
    let hi = this.byAddress.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.byAddress[mid].firstAddress! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const b = this.byAddress[hi];
    return b && address <= b.lastAddress! ? b : undefined;
  }

  /** The line holding the instruction at `address`, scanning only its block. */
  lineOf(address: number, source: LineSource): number | undefined {
    const b = this.blockAt(address);
    if (!b) return undefined;
    const needle = `0x${address.toString(16)}`;
    for (let n = b.headerLine + 1; n <= b.lastLine; n++) {
      const line = source.lineAt(n);
      if (!line.includes(needle)) continue;
      const ins = parseInstructionLine(line);
      if (ins && Number(ins.address) === address) return n;
    }
    return undefined;
  }
}
