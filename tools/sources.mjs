// The sources the fact generators read (tools/gen-*-facts.mjs): the installed Go toolchain's
// GOROOT, and gVisor at the version tools/build-runsc.sh pins, from the Go module cache.
// A generator that finds a source no longer matching its pattern stops with sourceChanged().
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const go = fs.existsSync('/usr/local/go/bin/go') && !process.env.PATH?.split(':').some((d) => fs.existsSync(path.join(d, 'go'))) ? '/usr/local/go/bin/go' : 'go';
export const goroot = execFileSync(go, ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
export const goVersion = fs.readFileSync(path.join(goroot, 'VERSION'), 'utf8').split('\n')[0].trim();
const pinned = /GVISOR_VERSION:-(v[^}]+)}/.exec(fs.readFileSync(path.join(root, 'tools', 'build-runsc.sh'), 'utf8'))[1];
export const gvisorVersion = process.env.GVISOR_VERSION ?? pinned;
const modcache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
export const gvisor = path.join(modcache, `gvisor.dev/gvisor@${gvisorVersion}`);
if (!fs.existsSync(gvisor)) {
  console.error(`gVisor ${gvisorVersion} is not in the Go module cache (${gvisor}): run tools/build-runsc.sh first.`);
  process.exit(1);
}

/** Stops the generator: `file` no longer matches `pattern`, so its table would be stale. */
export function sourceChanged(file, pattern) {
  console.error(`${file} no longer matches ${pattern}: read the source and update this generator.`);
  process.exit(1);
}

/**
 * Field offsets of a Go struct on a 64-bit target, from its field list as the source writes it
 * (each field aligned to its size; `[N]T` arrays, `func(...)` fields, `a, b T` lists). `sizes`
 * gives the bytes of each type the struct uses; a field of another type stops the generator.
 */
export function structLayout(file, body, sizes) {
  const fields = {};
  let offset = 0;
  for (const line of body.split('\n')) {
    const f = /^\t(\w+(?:, \w+)*)\s+(?:\[(\d+)\])?(func\(|\*?[\w.]+)/.exec(line);
    if (!f || f[1] === 'sys') continue; // sys.NotInHeap: no bytes
    const element = f[3] === 'func(' ? 8 : sizes[f[3]];
    if (element === undefined) sourceChanged(file, `a field of a known size (${f[1]} ${f[3]})`);
    for (const name of f[1].split(', ')) {
      offset = Math.ceil(offset / element) * element;
      if (name !== '_') fields[name] = offset;
      offset += element * Number(f[2] ?? 1);
    }
  }
  return fields;
}
