// Reads an ELF file's section table, reading only the bytes it needs (runsc is
// ~50 MB; its section headers are a few KB at the end).
import * as fs from 'node:fs';

export interface ElfSection {
  name: string;
  type: number;
  /** sh_link: for a symbol table, the index of its string table. */
  link: number;
  addr: bigint;
  offset: number;
  size: number;
}

export interface ElfInfo {
  is64: boolean;
  littleEndian: boolean;
  /** e_machine: 62 = x86-64, 183 = AArch64. */
  machine: number;
  sections: ElfSection[];
}

export class NotElfError extends Error {}

export function readElfSections(file: string): ElfInfo {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      const n = fs.readSync(fd, buf, 0, length, offset);
      if (n < length) throw new NotElfError(`${file}: truncated ELF (wanted ${length} bytes at ${offset})`);
      return buf;
    };
    return parseSections(read, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Pure part: `read(offset, length)` gives bytes of the file. */
export function parseSections(read: (offset: number, length: number) => Buffer, label = 'file'): ElfInfo {
  const ident = read(0, 16);
  if (ident.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError(`${label} is not an ELF file`);
  const is64 = ident[4] === 2;
  const littleEndian = ident[5] === 1;
  const header = read(0, is64 ? 64 : 52);
  const u16 = (b: Buffer, o: number) => (littleEndian ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => (littleEndian ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const word = (b: Buffer, o: number) => (is64 ? u64(b, o) : BigInt(u32(b, o)));

  const machine = u16(header, 18);
  const shoff = Number(word(header, is64 ? 40 : 32));
  const shentsize = u16(header, is64 ? 58 : 46);
  const shnum = u16(header, is64 ? 60 : 48);
  const shstrndx = u16(header, is64 ? 62 : 50);
  if (shoff === 0 || shnum === 0) return { is64, littleEndian, machine, sections: [] };

  const table = read(shoff, shentsize * shnum);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = i * shentsize;
    return {
      nameOffset: u32(table, o),
      type: u32(table, o + 4),
      link: u32(table, o + (is64 ? 40 : 24)),
      addr: word(table, o + (is64 ? 16 : 12)),
      offset: Number(word(table, o + (is64 ? 24 : 16))),
      size: Number(word(table, o + (is64 ? 32 : 20))),
    };
  });
  const strtab = raw[shstrndx];
  const names = strtab ? read(strtab.offset, strtab.size) : Buffer.alloc(0);
  const nameAt = (o: number) => names.toString('latin1', o, Math.max(o, names.indexOf(0, o)));
  const sections = raw.map((s) => ({ name: nameAt(s.nameOffset), type: s.type, link: s.link, addr: s.addr, offset: s.offset, size: s.size }));
  return { is64, littleEndian, machine, sections };
}

/** Go binaries carry build info (and, unstripped, a pclntab) in sections of their own. */
export function looksLikeGo(info: ElfInfo): boolean {
  return info.sections.some((s) => s.name === '.go.buildinfo' || s.name === '.gopclntab' || s.name === '.note.go.buildid');
}
