// Facts about an address from the binary alone: its function (ELF .symtab), and the
// instruction there, decoded only from an executable section (SHF_EXECINSTR): an
// address in .rodata or .data is data, and one in no loaded section is not the program's.
import { NotElfError, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, withElfFile, type ElfInfo, type ElfSection, type ReadAt } from '../elf/sections';
import { cachedElfFunctions, nameWithOffset, symbolize, type ElfSymbols } from '../elf/symbols';
import { arm64Text, decodeAmd64 } from '../bluepill/miniDisassembler';
import { archOfMachine, detectVariant } from '../bluepill/detect';
import type { ExplainInput } from './explain';
import { GoLineTable } from '../elf/goLineTable';

/** What holds an address: a code section, a section of data, or nothing the program loads. */
export type Placement = { kind: 'code'; section: ElfSection } | { kind: 'data'; section: ElfSection } | { kind: 'outside' };

export function placeAddress(info: ElfInfo, address: bigint): Placement {
  // Sections not loaded (debug info, symbol tables) have no address at run time: they hold nothing.
  const section = info.sections.find((s) => s.flags & SHF_ALLOC && s.size > 0 && s.addr <= address && address < s.addr + BigInt(s.size));
  if (!section) return { kind: 'outside' };
  return section.flags & SHF_EXECINSTR && section.type !== SHT_NOBITS ? { kind: 'code', section } : { kind: 'data', section };
}

/** The span of the loaded sections, to tell the user where the program is. */
export function loadedSpan(info: ElfInfo): { from: bigint; to: bigint } | undefined {
  const loaded = info.sections.filter((s) => s.flags & SHF_ALLOC && s.size > 0);
  if (!loaded.length) return undefined;
  return { from: loaded.reduce((m, s) => (s.addr < m ? s.addr : m), loaded[0].addr), to: loaded.reduce((m, s) => (s.addr + BigInt(s.size) > m ? s.addr + BigInt(s.size) : m), 0n) };
}

/** For the extension's "Explain Address in Binary": the file's symbols are cached per version. */
export function factsFromBinary(file: string, address: bigint): ExplainInput {
  return withElfFile(file, (read) => factsFromElf(cachedElfFunctions(file), read, file, address));
}

/** `read` reads the ELF file's bytes (a file, or standard input held in memory). */
export function factsFromElf(symbols: ElfSymbols, read: ReadAt, label: string, address: bigint): ExplainInput {
  const { info, functions } = symbols;
  const arch = archOfMachine(info.machine);
  if (!arch) throw new Error(`${label} is an ELF file for machine ${info.machine}; explain knows arm64 (183) and amd64 (62).`);
  const hit = symbolize(functions, address);
  const placement = placeAddress(info, address);
  const nameOf = (a: bigint) => nameWithOffset(functions, a, clean);
  let instruction: ExplainInput['instruction'];
  // The code bytes: up to 16, not past the section's end, and only if the section really is in
  // the file (a corrupt sh_offset/sh_size gives no instruction, not zeros or a RangeError).
  let code: Buffer | undefined;
  if (placement.kind === 'code') {
    const { section } = placement;
    const at = Number(address - section.addr);
    try {
      code = read(section.offset + at, Math.min(16, section.size - at));
    } catch (e) {
      if (!(e instanceof NotElfError)) throw e;
    }
  }
  if (code && code.length >= (arch === 'arm64' ? 4 : 1)) {
    if (arch === 'arm64') instruction = { text: arm64Text(code.readUInt32LE(0), address, nameOf), bytes: code.subarray(0, 4).toString('hex') };
    else {
      const first = decodeAmd64(address, code, nameOf)[0];
      instruction = { text: first.text.startsWith('BYTE') ? undefined : first.text, bytes: first.bytes.toString('hex') };
    }
  }
  const note =
    placement.kind === 'outside'
      ? ' (the address is in no section the program loads)'
      : placement.kind === 'data'
        ? ` (the address is data in ${placement.section.name || 'a section'}, not code)`
        : instruction
          ? ''
          : ' (the code bytes of its section are not in the file)';
  // The source line from the binary's own Go line table (none for code that is not Go's, or a Go the facts do not describe).
  let source: ExplainInput['source'];
  if (placement.kind === 'code') {
    try {
      if (symbols.goLines === undefined) symbols.goLines = GoLineTable.parse(read, label) ?? null;
      source = symbols.goLines?.lineAt(address);
    } catch (e) {
      if (!(e instanceof NotElfError)) throw e;
    }
  }
  return {
    address,
    arch,
    variant: detectVariant(info.machine, functions.map((f) => f.name)),
    symbol: hit ? clean(hit.symbol.name) : undefined,
    offset: hit?.offset,
    source,
    instruction,
    origin: `the ELF symbols and code of ${label}${note}`,
  };
}

function clean(name: string): string {
  return name.replace(/\.abi0$/, '');
}
