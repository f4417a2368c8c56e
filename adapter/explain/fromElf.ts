// Facts about an address from the binary alone: its function (ELF .symtab), and the
// instruction there (code bytes from the section that holds it), with no listing.
import { NotElfError, withElfFile } from '../elf/sections';
import { cachedElfFunctions, symbolize } from '../elf/symbols';
import { arm64Text, decodeAmd64 } from '../bluepill/miniDisassembler';
import { archOfMachine, detectVariant } from '../bluepill/detect';
import type { ExplainInput } from './explain';

const SHT_PROGBITS = 1;
export function factsFromBinary(file: string, address: bigint): ExplainInput {
  const { info, functions } = cachedElfFunctions(file);
  const arch = archOfMachine(info.machine);
  if (!arch) throw new Error(`${file} is an ELF file for machine ${info.machine}; explain knows arm64 (183) and amd64 (62).`);
  const hit = symbolize(functions, address);
  const section = info.sections.find((s) => s.type === SHT_PROGBITS && s.addr <= address && address < s.addr + BigInt(s.size));
  const nameOf = (a: bigint) => {
    const t = symbolize(functions, a);
    return t ? `${clean(t.symbol.name)}${t.offset ? `+0x${t.offset.toString(16)}` : ''}` : undefined;
  };
  let instruction: ExplainInput['instruction'];
  // The code bytes: up to 16, not past the section's end, and only if the section really is in
  // the file (a corrupt sh_offset/sh_size gives no instruction, not zeros or a RangeError).
  const at = section ? Number(address - section.addr) : 0;
  let code: Buffer | undefined;
  if (section) {
    try {
      code = withElfFile(file, (read) => read(section.offset + at, Math.min(16, section.size - at)));
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
  return {
    address,
    arch,
    variant: detectVariant(info.machine, functions.map((f) => f.name)),
    symbol: hit ? clean(hit.symbol.name) : undefined,
    offset: hit?.offset,
    instruction,
    origin: `the ELF symbols and code of ${file}${!section ? ' (the address is in no section with code)' : instruction ? '' : ' (the code bytes of its section are not in the file)'}`,
  };
}

function clean(name: string): string {
  return name.replace(/\.abi0$/, '');
}
