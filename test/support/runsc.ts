// Real gVisor: runsc built from its Go module by tools/build-runsc.sh (cached in
// .cache/runsc/<version>/ for the rest of the run).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './paths';

export const GVISOR_VERSION = /GVISOR_VERSION:-(v[^}]+)}/.exec(fs.readFileSync(path.join(repoRoot, 'tools', 'build-runsc.sh'), 'utf8'))![1];

let built: { amd64: string; arm64: string } | undefined;

export function runscBinaries(): { amd64: string; arm64: string } {
  if (!built) {
    const out = execFileSync('bash', [path.join(repoRoot, 'tools', 'build-runsc.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 20 * 60_000 });
    const [amd64, arm64] = out.trim().split('\n');
    built = { amd64, arm64 };
  }
  return built;
}

/** The code bytes of a function, from the ELF (file offset of .text + address - .text address). */
export function functionCode(file: string, textAddr: bigint, textOffset: number, address: bigint, size: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(size);
    fs.readSync(fd, b, 0, size, textOffset + Number(address - textAddr));
    return b;
  } finally {
    fs.closeSync(fd);
  }
}
