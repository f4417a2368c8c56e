import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { boundedNames, looksLikeGo, MAX_NAME_BYTES, NotElfError, readElfSections, SHF_ALLOC, SHF_EXECINSTR } from '../../adapter/elf/sections';
import { buildFixture } from '../support/fixtures';
import { FunctionTable } from '../../adapter/elf/functionTable';
import { readElfFunctions, symbolize } from '../../adapter/elf/symbols';

describe('ELF sections', () => {
  it('finds Go build info in a Go binary, for both architectures', () => {
    const amd64 = readElfSections(buildFixture('hello'));
    assert.equal(amd64.machine, 62);
    assert.ok(looksLikeGo(amd64));
    assert.ok(amd64.sections.some((s) => s.name === '.text' && s.addr > 0n));
    const arm64 = readElfSections(buildFixture('hello', { goarch: 'arm64' }));
    assert.equal(arm64.machine, 183);
    assert.ok(looksLikeGo(arm64));
  });

  it('says a C program is not Go', () => {
    assert.equal(looksLikeGo(readElfSections('/bin/sh')), false);
  });

  it('reads section flags: .text is loaded code, .rodata loaded data, .symtab not loaded', () => {
    const { sections } = readElfSections(buildFixture('hello'));
    const flags = (name: string) => sections.find((s) => s.name === name)!.flags & (SHF_ALLOC | SHF_EXECINSTR);
    assert.deepEqual([flags('.text'), flags('.rodata'), flags('.symtab')], [SHF_ALLOC | SHF_EXECINSTR, SHF_ALLOC, 0]);
  });

  it('names from a string table are cut at MAX_NAME_BYTES and decoded once per offset', () => {
    const table = Buffer.concat([Buffer.from('\0short\0'), Buffer.alloc(100_000, 'a'), Buffer.from([0])]);
    const nameAt = boundedNames(table);
    assert.equal(nameAt(1), 'short');
    assert.equal(nameAt(7), `${'a'.repeat(MAX_NAME_BYTES)}…`);
    assert.equal(nameAt(7 + 100_000 - 3), 'aaa');
    assert.equal(nameAt(table.length + 5), '', 'an offset past the table: no name');
  });

  it('refuses a file that is not ELF', () => {
    assert.throws(() => readElfSections(__filename), NotElfError);
  });
});

describe('FunctionTable (flat arrays, names decoded on demand)', () => {
  it('names every address as the symbol list does, in real binaries of both architectures', () => {
    for (const goarch of ['amd64', 'arm64'] as const) {
      const file = buildFixture('minibluepill', { goarch });
      const table = FunctionTable.read(file);
      const { functions } = readElfFunctions(file);
      assert.equal(table.length, functions.length);
      assert.ok(functions.length > 1000, `${functions.length} functions`);
      // Every function's first, middle and last byte, one byte past its end, and a gap below the first.
      const probes = [functions[0].address - 1n];
      for (const f of functions) probes.push(f.address, f.address + BigInt(f.size >> 1), f.address + BigInt(Math.max(f.size - 1, 0)), f.address + BigInt(f.size));
      for (const a of probes) {
        const want = symbolize(functions, a);
        const got = table.lookup(a);
        assert.deepEqual(got && { name: got.name, offset: got.offset }, want && { name: want.symbol.name, offset: want.offset }, `${goarch} 0x${a.toString(16)}`);
      }
      assert.equal(table.lookup(2n ** 63n), undefined);
    }
  });
});
