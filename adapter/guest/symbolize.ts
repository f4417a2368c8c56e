// Names guest PCs by runsc's own symbols: the guest address is mapped to runsc's address
// (addressMap.ts), then named from the ELF's .symtab. For the few PCs a report shows, the
// source line comes from the binary's DWARF through binutils' addr2line and the instruction
// from objdump, both real tools run once per report; without them the name stays symbol+offset.
import { spawnSync } from 'node:child_process';
import { symbolize, type ElfSymbol } from '../elf/symbols';
import { FunctionTable } from '../elf/functionTable';
import { archOfMachine, guestToHost, type GuestArch } from './addressMap';

export interface NamedPc {
  /** The guest PC as the trace printed it (hex, no 0x). */
  guestPc: string;
  /** runsc's address for it (hex with 0x). */
  address: string;
  /** 'upper' when the guest ran the kernel-half alias of the address. */
  half: 'lower' | 'upper';
  /** symbol+0xoffset, or undefined when runsc has no function there. */
  symbol?: string;
  /** The function alone, without offset. */
  function?: string;
  /** file.go:line from the binary's DWARF line table. */
  source?: string;
  /** The instruction at the address, as objdump prints it. */
  instruction?: string;
}

/** Names guest PCs from a function table (pure); GuestSymbols adds the binary's lines and instructions. */
export class SymbolTableNamer {
  private readonly cache = new Map<string, NamedPc>();

  private readonly lookup: (address: bigint) => { name: string; offset: bigint } | undefined;

  /** `functions`: a list sorted by address (the tests' recorded tables), or a binary's FunctionTable. */
  constructor(
    readonly arch: GuestArch,
    functions: ElfSymbol[] | FunctionTable,
  ) {
    this.lookup = Array.isArray(functions)
      ? (a) => {
          const found = symbolize(functions, a);
          return found && { name: found.symbol.name, offset: found.offset };
        }
      : (a) => functions.lookup(a);
  }

  name(guestPc: string): NamedPc {
    const hit = this.cache.get(guestPc);
    if (hit) return hit;
    const { host, half } = guestToHost(this.arch, BigInt(`0x${guestPc}`));
    const found = this.lookup(host);
    const fn = found ? found.name.replace(/\.abi0$/, '') : undefined;
    const named: NamedPc = {
      guestPc,
      address: `0x${host.toString(16)}`,
      half,
      function: fn,
      symbol: found ? `${fn}+0x${found.offset.toString(16)}` : undefined,
    };
    if (this.cache.size < 100_000) this.cache.set(guestPc, named);
    return named;
  }
}

/** runsc's own symbols, from its ELF file. */
export class GuestSymbols extends SymbolTableNamer {
  constructor(readonly binary: string) {
    const functions = FunctionTable.read(binary);
    const arch = archOfMachine(functions.info.machine);
    if (!arch) throw new Error(`${binary} is an ELF file for machine ${functions.info.machine}; gVisor's KVM platform runs on amd64 (62) and arm64 (183).`);
    if (functions.length === 0) throw new Error(`${binary} has no symbol table (stripped?): give the unstripped runsc with --binary PATH.`);
    super(arch, functions);
  }

  private readonly described = new WeakSet<NamedPc>();

  /** Adds source lines and instructions to these (few) PCs, in place, once each. */
  describe(pcs: NamedPc[]): void {
    const todo = pcs.filter((p) => p.symbol && !this.described.has(p));
    if (todo.length === 0) return;
    for (const p of todo) this.described.add(p);
    const lines = runTool('addr2line', ['-e', this.binary, ...todo.map((p) => p.address)]);
    lines?.split('\n').forEach((line, i) => {
      // "??:0" or "go.go:?" (assembly without line info) say nothing.
      if (todo[i] && line && !/^\?\?|:\?$|:0$/.test(line)) todo[i].source = line.replace(/ \(discriminator \d+\)$/, '');
    });
    // binutils 2.40 reads no line of a Go 1.26 binary ("go.go:?" for all): Go's own addr2line reads its line table.
    const missing = todo.filter((p) => !p.source);
    if (missing.length) goLines(this.binary, missing.map((p) => p.address)).forEach((line, i) => line && (missing[i].source = line));
    const texts = instructionsAt(this.binary, this.arch, todo.map((p) => BigInt(p.address)));
    for (const p of todo) p.instruction = texts.get(BigInt(p.address));
  }
}

function runTool(tool: string, args: string[], input?: string): string | undefined {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 << 20, input });
  return r.status === 0 ? r.stdout : undefined;
}

/** file:line of each address by `go tool addr2line` (two lines per address: function, file:line), where Go is installed. */
function goLines(binary: string, addresses: string[]): (string | undefined)[] {
  for (const go of ['go', '/usr/local/go/bin/go']) {
    const out = runTool(go, ['tool', 'addr2line', binary], addresses.join('\n') + '\n');
    if (out === undefined) continue;
    const lines = out.split('\n');
    return addresses.map((_, i) => {
      const line = lines[2 * i + 1];
      return line && !/^\?|:0$/.test(line) ? line : undefined;
    });
  }
  return addresses.map(() => undefined);
}

/** objdump's text for the instructions at these addresses, e.g. "mov %gs:0x110,%rax": one run per cluster of nearby addresses. */
function instructionsAt(binary: string, arch: GuestArch, addresses: bigint[]): Map<bigint, string> {
  const texts = new Map<bigint, string>();
  const sorted = [...new Set(addresses)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] - sorted[j] < 0x1000n) j++;
    const stop = sorted[j] + (arch === 'arm64' ? 4n : 16n);
    const args = ['-d', '--no-show-raw-insn', `--start-address=0x${sorted[i].toString(16)}`, `--stop-address=0x${stop.toString(16)}`, binary];
    // The host's objdump reads only its own architecture (Debian's: "can't disassemble for architecture UNKNOWN!").
    const out = arch === 'arm64' && process.arch !== 'arm64' ? runTool('aarch64-linux-gnu-objdump', args) ?? runTool('objdump', args) : runTool('objdump', args);
    if (out) for (const [address, text] of parseObjdumpLines(out)) if (sorted.includes(address)) texts.set(address, text);
    i = j + 1;
  }
  return texts;
}

/** Address → instruction text, from objdump -d --no-show-raw-insn output. */
export function parseObjdumpLines(output: string): Map<bigint, string> {
  const lines = new Map<bigint, string>();
  for (const line of output.split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+(\S.*)$/.exec(line);
    if (m) lines.set(BigInt(`0x${m[1]}`), m[2].trim().replace(/\s+/g, ' '));
  }
  return lines;
}
