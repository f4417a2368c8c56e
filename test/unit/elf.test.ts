import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { boundedNames, looksLikeGo, MAX_NAME_BYTES, NotElfError, readElfSections, SHF_ALLOC, SHF_EXECINSTR } from '../../adapter/elf/sections';
import { buildFixture } from '../support/fixtures';

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
