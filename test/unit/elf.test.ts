import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { looksLikeGo, NotElfError, readElfSections } from '../../adapter/elf/sections';
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

  it('refuses a file that is not ELF', () => {
    assert.throws(() => readElfSections(__filename), NotElfError);
  });
});
