// The Go line table (.gopclntab) read as the runtime reads it, on real binaries built here: every
// function's entry named as its ELF symbol, nothing inlined in a -N -l build, inlined code found in
// an optimised one; the layout facts generated from the installed Go.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { GoLineTable } from '../../adapter/elf/goLineTable';
import { PCLNTAB } from '../../adapter/elf/pclntabFacts.generated';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { buildFixture } from '../support/fixtures';

/** The ELF symbol as the line table spells the function: no ABI suffix, Go's middle dot unmangled. */
const asGoName = (symbol: string) => symbol.replace(/\.abi0$/, '');
const sameName = (a: string, b: string) => a.replace(/·/g, '.') === b.replace(/·/g, '.');

describe('the Go line table', () => {
  it('is generated from the installed Go', () => {
    const goVersion = /go version (go\S+)/.exec(execFileSync('go', ['version'], { encoding: 'utf8' }))![1];
    assert.equal(PCLNTAB.version, goVersion, 'regenerate with node tools/gen-pclntab-facts.mjs after changing Go');
  });

  for (const goarch of ['amd64', 'arm64'] as const) {
    it(`names every function at its entry as its ELF symbol does, and sees no inlining in a -N -l build (${goarch})`, () => {
      const binary = buildFixture('hello', { goarch });
      const table = GoLineTable.read(binary)!;
      assert.ok(table, 'a Go 1.20+ line table');
      const functions = readElfFunctions(binary).functions.filter((f) => f.name !== 'runtime.text' && f.size > 0);
      let inlined = 0;
      for (const f of functions) {
        const at = table.at(f.address);
        assert.ok(at, `${f.name} at 0x${f.address.toString(16)}`);
        assert.ok(sameName(at.name, asGoName(f.name)), `${f.name}: the table says ${at.name}`);
        assert.equal(at.entry, f.address);
        for (let o = 0n; o < BigInt(f.size); o += 4n) if (table.at(f.address + o)?.inlined) inlined++;
      }
      assert.ok(functions.length > 3000);
      assert.equal(inlined, 0, 'nothing is inlined with -l');
    });
  }

  it('finds inlined code in an optimised build, and names only the function it is in', () => {
    const binary = buildFixture('hello', { optimized: true });
    const table = GoLineTable.read(binary)!;
    const functions = readElfFunctions(binary).functions.filter((f) => f.name.startsWith('main.') || f.name.startsWith('fmt.'));
    let inlined = 0;
    for (const f of functions) {
      for (let o = 0n; o < BigInt(f.size); o++) {
        const at = table.at(f.address + o)!;
        assert.ok(sameName(at.name, asGoName(f.name)), `inside ${f.name}: ${at.name}`);
        if (at.inlined) inlined++;
      }
    }
    assert.ok(inlined > 0, 'main and fmt have code inlined into them');
    assert.equal(table.at(0n), undefined, 'below the text: no function');
  });

  it('gives the source line go tool addr2line gives, at 300 PCs anywhere in functions (amd64, arm64, an optimised build with inlining)', () => {
    for (const binary of [buildFixture('hello'), buildFixture('minibluepill', { goarch: 'arm64' }), buildFixture('hello', { optimized: true })]) {
      const table = GoLineTable.read(binary)!;
      const functions = readElfFunctions(binary).functions.filter((f) => f.size > 8);
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pcs = Array.from({ length: 300 }, () => {
        const f = functions[Math.floor(rand() * functions.length)];
        return f.address + BigInt(Math.floor(rand() * f.size));
      });
      const lines = execFileSync('go', ['tool', 'addr2line', binary], { input: pcs.map((p) => `0x${p.toString(16)}\n`).join(''), encoding: 'utf8' }).trim().split('\n');
      for (const [i, pc] of pcs.entries()) {
        const got = table.lineAt(pc);
        assert.equal(got ? `${got.file}:${got.line}` : '?:0', lines[2 * i + 1], `${binary} 0x${pc.toString(16)} (${lines[2 * i]})`);
      }
    }
  });

  it('is no table for a file that is not a Go binary', () => {
    assert.equal(GoLineTable.read('/bin/sh'), undefined);
    assert.equal(GoLineTable.read('/nonexistent'), undefined);
  });
});
