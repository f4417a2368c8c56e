// Reads an ELF file's section table, reading only the bytes it needs (runsc is
// ~50 MB; its section headers are a few KB at the end).
import * as fs from 'node:fs';

export interface ElfSection {
  name: string;
  type: number;
  /** sh_flags: SHF_ALLOC (2) for a section loaded in memory, SHF_EXECINSTR (4) for code. */
  flags: number;
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

export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;
export const SHT_NOBITS = 8;

/** `read(offset, length)`: that many bytes of the file, or a NotElfError. */
export type ReadAt = (offset: number, length: number) => Buffer;

/**
 * Checks a read against the file's size before allocating anything: offsets and sizes come
 * from the file itself, and a corrupt one (sh_size 2^64-1, e_shnum * e_shentsize = 4 GB) must
 * give a NotElfError, not a RangeError or a 4 GB Buffer.
 */
function checkRange(label: string, fileSize: number, offset: number, length: number): void {
  if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= fileSize)) {
    throw new NotElfError(`${label}: truncated or corrupt ELF (wants ${length} bytes at offset ${offset}; the file has ${fileSize})`);
  }
}

export function fileReader(fd: number, label: string): ReadAt {
  const size = fs.fstatSync(fd).size;
  return (offset, length) => {
    checkRange(label, size, offset, length);
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, offset);
    if (n < length) throw new NotElfError(`${label}: truncated ELF (wanted ${length} bytes at ${offset}, got ${n})`);
    return buf;
  };
}

/** The same reads from bytes in memory. */
export function bufferReader(bytes: Buffer, label: string): ReadAt {
  return (offset, length) => {
    checkRange(label, bytes.length, offset, length);
    return bytes.subarray(offset, offset + length);
  };
}

/** Opens `file`, gives `use` a checked reader of it, closes it. */
export function withElfFile<T>(file: string, use: (read: ReadAt) => T): T {
  const fd = fs.openSync(file, 'r');
  try {
    return use(fileReader(fd, file));
  } finally {
    fs.closeSync(fd);
  }
}

export function readElfSections(file: string): ElfInfo {
  return withElfFile(file, (read) => parseSections(read, file));
}

/** Pure part: `read(offset, length)` gives bytes of the file. */
export function parseSections(read: ReadAt, label = 'file'): ElfInfo {
  const ident = read(0, 16);
  if (ident.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError(`${label} is not an ELF file`);
  if (ident[4] !== 1 && ident[4] !== 2) throw new NotElfError(`${label}: unknown ELF class ${ident[4]} (1 is 32-bit, 2 is 64-bit)`);
  if (ident[5] !== 1 && ident[5] !== 2) throw new NotElfError(`${label}: unknown ELF data encoding ${ident[5]} (1 is little-endian, 2 is big-endian)`);
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
  // Entries shorter than a section header would have their fields read past the table.
  const minEntry = is64 ? 64 : 40;
  if (shentsize < minEntry) throw new NotElfError(`${label}: corrupt ELF (section header entries of ${shentsize} bytes, at least ${minEntry} expected)`);

  const table = read(shoff, shentsize * shnum);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = i * shentsize;
    return {
      nameOffset: u32(table, o),
      type: u32(table, o + 4),
      flags: Number(word(table, o + 8) & 0xffffffffn), // the defined flags all fit in 32 bits
      link: u32(table, o + (is64 ? 40 : 24)),
      addr: word(table, o + (is64 ? 16 : 12)),
      offset: Number(word(table, o + (is64 ? 24 : 16))),
      size: Number(word(table, o + (is64 ? 32 : 20))),
    };
  });
  const strtab = raw[shstrndx];
  const names = strtab ? stringTable(read(strtab.offset, strtab.size), label, 'section name table') : Buffer.alloc(0);
  const nameAt = boundedNames(names, 'latin1');
  const sections = raw.map((s) => ({ name: nameAt(s.nameOffset), type: s.type, flags: s.flags, link: s.link, addr: s.addr, offset: s.offset, size: s.size }));
  return { is64, littleEndian, machine, sections };
}

/**
 * A string table must end with a NUL (ELF gABI). One that does not is corrupt, and reading it
 * anyway is a trap: every name in a table with no NUL at all runs to its end, which for the
 * symbol names of a Go binary is thousands of 100 KB strings.
 */
export function stringTable(bytes: Buffer, label: string, what: string): Buffer {
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0) throw new NotElfError(`${label}: corrupt ELF (its ${what} does not end with a NUL byte)`);
  return bytes;
}

/** Longer names are cut here: real Go names (generics included) are far shorter. */
export const MAX_NAME_BYTES = 8192;

/**
 * Names from a string table, each decoded once per offset and at most MAX_NAME_BYTES long:
 * symbols (or sections) may share one long string (all at one offset, or at offsets into it),
 * and copying it per symbol made 3 GB of strings from a small file.
 */
export function boundedNames(names: Buffer, encoding: BufferEncoding = 'utf8'): (offset: number) => string {
  const seen = new Map<number, string>();
  return (offset) => {
    let name = seen.get(offset);
    if (name === undefined) {
      const window = names.subarray(offset, offset + MAX_NAME_BYTES + 1);
      const end = window.indexOf(0);
      name = end >= 0 ? window.toString(encoding, 0, end) : window.length > MAX_NAME_BYTES ? `${window.toString(encoding, 0, MAX_NAME_BYTES)}…` : window.toString(encoding);
      seen.set(offset, name);
    }
    return name;
  };
}

/** Go binaries carry build info (and, unstripped, a pclntab) in sections of their own. */
export function looksLikeGo(info: ElfInfo): boolean {
  return info.sections.some((s) => s.name === '.go.buildinfo' || s.name === '.gopclntab' || s.name === '.note.go.buildid');
}
