// A Go binary's own line table (.gopclntab), read as the Go runtime reads it (see the generated
// facts): the function at a PC, and whether the PC is in code inlined into that function. With it
// the proxy can name a PC dlv has not named yet, where no inlining can make dlv's name differ
// (dlv names the innermost inlined function; the table's function is the outermost).
import { PCLNTAB } from './pclntabFacts.generated';
import { parseSections, withElfFile, type ReadAt } from './sections';

export interface GoFunctionAt {
  name: string;
  entry: bigint;
  /** The PC is in code inlined into the function (so the innermost function there is another). */
  inlined: boolean;
}

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
/** Names longer than this are no Go function's (a corrupt table): the lookup gives up. */
const MAX_NAME = 4096;

export class GoLineTable {
  private constructor(
    private readonly table: Buffer,
    private readonly text: bigint,
    private readonly quantum: number,
    private readonly nfunc: number,
    private readonly funcnames: number,
    private readonly pctab: number,
    private readonly pcln: number,
    private readonly cutab: number,
    private readonly filetab: number,
  ) {}

  /** The table of a Go binary built by a Go whose layout the facts describe; undefined for anything else. */
  static read(file: string): GoLineTable | undefined {
    try {
      return withElfFile(file, (read) => GoLineTable.parse(read, file));
    } catch {
      return undefined;
    }
  }

  static parse(read: ReadAt, label: string): GoLineTable | undefined {
    const info = parseSections(read, label);
    const quantum = info.machine === EM_X86_64 ? PCLNTAB.pcQuantum.amd64 : info.machine === EM_AARCH64 ? PCLNTAB.pcQuantum.arm64 : undefined;
    const section = info.sections.find((s) => s.name === '.gopclntab');
    // moduledata.text is where .text starts (the linker's runtime.text).
    const text = info.sections.find((s) => s.name === '.text');
    if (!quantum || !section || !text || !info.is64 || !info.littleEndian) return undefined;
    const table = read(section.offset, section.size);
    const h = PCLNTAB.header;
    if (table.length < h.pclnOffset + 8 || table.readUInt32LE(h.magic) !== PCLNTAB.magic || table[h.ptrSize] !== 8) return undefined;
    const word = (at: number) => Number(table.readBigUInt64LE(at));
    const nfunc = word(h.nfunc);
    const pcln = word(h.pclnOffset);
    if (pcln + (nfunc + 1) * 8 > table.length) return undefined;
    return new GoLineTable(table, text.addr, quantum, nfunc, word(h.funcnameOffset), word(h.pctabOffset), pcln, word(h.cuOffset), word(h.filetabOffset));
  }

  /** The _func record whose code holds `pc` (its offset in the table), and the PC as an offset from the text. */
  private funcAt(pc: bigint): { func: number; entry: number; target: number } | undefined {
    if (pc < this.text) return undefined;
    const offset = pc - this.text;
    if (offset >= 2n ** 32n) return undefined;
    const target = Number(offset);
    // The functab: nfunc+1 (entry offset, _func offset) pairs, sorted; the last entry ends the text.
    const entryOf = (i: number) => this.table.readUInt32LE(this.pcln + i * 8);
    if (target >= entryOf(this.nfunc)) return undefined;
    let lo = 0;
    let hi = this.nfunc - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (entryOf(mid) <= target) lo = mid;
      else hi = mid - 1;
    }
    if (entryOf(lo) > target) return undefined;
    const func = this.pcln + this.table.readUInt32LE(this.pcln + lo * 8 + 4);
    if (func + PCLNTAB.funcPcdata > this.table.length) return undefined;
    return { func, entry: this.table.readUInt32LE(func + PCLNTAB.func.entryOff), target };
  }

  /** The source line of `pc` (the innermost inlined function's, as go tool objdump shows it), or undefined. */
  lineAt(pc: bigint): { file: string; line: number } | undefined {
    const at = this.funcAt(pc);
    if (!at) return undefined;
    const f = PCLNTAB.func;
    const u32 = (o: number) => this.table.readUInt32LE(at.func + o);
    // The runtime's funcline1: the file number and the line from their pc-value tables; the file's name
    // through the compilation unit's slice of cutab into filetab.
    // A table offset of 0 is no table (the runtime's pcvalue gives -1 for it): no line.
    if (u32(f.pcfile) === 0 || u32(f.pcln) === 0) return undefined;
    const fileno = this.pcvalue(this.pctab + u32(f.pcfile), at.entry, at.target);
    const line = this.pcvalue(this.pctab + u32(f.pcln), at.entry, at.target);
    if (fileno === undefined || line === undefined || fileno < 0 || line <= 0) return undefined;
    const slot = this.cutab + (u32(f.cuOffset) + fileno) * 4;
    if (slot + 4 > this.table.length) return undefined;
    const fileOffset = this.table.readUInt32LE(slot);
    const file = fileOffset === 0xffffffff ? undefined : this.cstring(this.filetab + fileOffset);
    return file ? { file, line } : undefined;
  }

  /** The function whose code holds `pc`, or undefined (outside the table, or a table that does not read right). */
  at(pc: bigint): GoFunctionAt | undefined {
    const found = this.funcAt(pc);
    if (!found) return undefined;
    const { func, entry, target } = found;
    const f = PCLNTAB.func;
    const name = this.name(this.table.readInt32LE(func + f.nameOff));
    if (name === undefined) return undefined;
    const npcdata = this.table.readUInt32LE(func + f.npcdata);
    let inlined = false;
    if (PCLNTAB.pcdataInlTreeIndex < npcdata) {
      const at = func + PCLNTAB.funcPcdata + PCLNTAB.pcdataInlTreeIndex * 4;
      if (at + 4 > this.table.length) return undefined;
      const tableOffset = this.table.readUInt32LE(at);
      // No table: nothing is inlined into the function. Else the value at the PC: -1 outside inlined code.
      if (tableOffset !== 0) {
        const value = this.pcvalue(this.pctab + tableOffset, entry, target);
        if (value === undefined) return undefined;
        inlined = value !== -1;
      }
    }
    return { name, entry: this.text + BigInt(entry), inlined };
  }

  private name(offset: number): string | undefined {
    return offset < 0 ? undefined : this.cstring(this.funcnames + offset);
  }

  private cstring(start: number): string | undefined {
    if (start >= this.table.length) return undefined;
    const end = this.table.indexOf(0, start);
    if (end < 0 || end - start > MAX_NAME) return undefined;
    return this.table.toString('utf8', start, end);
  }

  /** The runtime's pcvalue: the value a pc-value table gives at `target` (offsets from the text). */
  private pcvalue(at: number, entry: number, target: number): number | undefined {
    let pc = entry;
    let value = -1;
    for (let first = true; at < this.table.length; first = false) {
      const delta = this.uvarint(at);
      if (!delta || (delta.value === 0 && !first)) return undefined; // the table ended before the PC
      at = delta.next;
      value += delta.value & 1 ? -((delta.value + 1) / 2) : delta.value / 2;
      const step = this.uvarint(at);
      if (!step) return undefined;
      at = step.next;
      pc += step.value * this.quantum;
      if (target < pc) return value;
    }
    return undefined;
  }

  private uvarint(at: number): { value: number; next: number } | undefined {
    let value = 0;
    for (let shift = 0; at < this.table.length && shift < 35; shift += 7) {
      const b = this.table[at++];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return { value, next: at };
    }
    return undefined;
  }
}
