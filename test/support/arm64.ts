// ARM64 on an x86-64 machine: binutils' view of a binary's system register moves,
// and core files made by running the program under qemu-user.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';

export interface BinutilsMove {
  address: number;
  word: number;
  mnemonic: 'mrs' | 'msr';
  /** The register operand, upper case (generic S3_... when binutils has no name). */
  name: string;
  /** The function it is in, e.g. main.readEL0. */
  symbol: string;
}

/** Every MRS/MSR (register) instruction in the binary, as aarch64-linux-gnu-objdump reads it. */
export function binutilsMoves(binary: string): BinutilsMove[] {
  const text = execFileSync('aarch64-linux-gnu-objdump', ['-d', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const moves: BinutilsMove[] = [];
  const symbols = [...text.matchAll(/^([0-9a-f]+) <([^>]+)>:$/gm)].map((m) => ({ address: parseInt(m[1], 16), name: m[2] }));
  const symbolAt = (address: number) => symbols.filter((s) => s.address <= address).pop()?.name ?? '?';
  for (const m of text.matchAll(/^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(mrs|msr)\s+([^\n]*)$/gm)) {
    const operands = m[4].split('//')[0].split(',').map((s) => s.trim());
    const name = (m[3] === 'mrs' ? operands[1] : operands[0]).toUpperCase();
    if (m[3] === 'msr' && /^#|^(DAIFSET|DAIFCLR|SPSEL|PAN|UAO|DIT|SSBS|TCO|ALLINT|PM)$/.test(operands[0].toUpperCase()) && /#/.test(operands[1] ?? '')) continue; // MSR (immediate)
    const address = parseInt(m[1], 16);
    moves.push({ address, word: parseInt(m[2], 16), mnemonic: m[3] as 'mrs' | 'msr', name, symbol: symbolAt(address) });
  }
  return moves;
}

/**
 * Runs an arm64 program under qemu-aarch64-static until it dies of a signal, and
 * returns the core file qemu writes (qemu_<prog>_<time>_<pid>.core).
 */
export function makeQemuCore(binary: string, args: string[]): { core: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-qemu-core-'));
  const result = spawnSync('sh', ['-c', 'ulimit -c unlimited && exec qemu-aarch64-static "$@"', 'sh', binary, ...args], { cwd: dir, encoding: 'utf8' });
  const core = fs.readdirSync(dir).find((f) => f.endsWith('.core'));
  if (!core) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`qemu-aarch64-static left no core file (status ${result.status}, signal ${result.signal}): ${result.stderr.slice(-2000)}`);
  }
  return { core: path.join(dir, core), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function goObjdump(binary: string, symbolRegexp: string): string {
  return execFileSync('go', ['tool', 'objdump', '-s', symbolRegexp, binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
}
