// `bluepill-lens explain` offline, on a real arm64 binary and its real listing:
// the same answers from the ELF alone and from the listing.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { buildFixture } from '../support/fixtures';
import { binutilsMoves, goObjdump } from '../support/arm64';
import { cliBundle } from '../support/paths';
import { readElfFunctions } from '../../adapter/elf/symbols';

function explainJson(...args: string[]): Record<string, unknown> {
  return JSON.parse(execFileSync(process.execPath, [cliBundle, 'explain', ...args, '--json'], { encoding: 'utf8' }));
}

describe('bluepill-lens explain, offline, arm64', () => {
  let binary: string;
  let listing: string;
  let trap: bigint;
  let sighandler: bigint;

  before(() => {
    binary = buildFixture('minibluepill', { goarch: 'arm64' });
    listing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'explain-')), 'minibluepill.objdump');
    fs.writeFileSync(listing, goObjdump(binary, '.'));
    trap = BigInt(binutilsMoves(binary).find((m) => m.symbol === 'minibluepill/kvm.bluepill.abi0')!.address);
    sighandler = readElfFunctions(binary).functions.find((f) => f.name === 'minibluepill/kvm.sighandler.abi0')!.address;
  });

  for (const source of ['--binary', '--objdump'] as const) {
    it(`${source}: the trapping MRS in kvm.bluepill`, () => {
      const e = explainJson(source, source === '--binary' ? binary : listing, `0x${trap.toString(16)}`);
      assert.equal(e.where, 'minibluepill/kvm.bluepill');
      assert.equal(e.instruction, 'MRS TPIDR_EL1, R10  // $18052 · EL1 only');
      assert.deepEqual(e.landmark && (e.landmark as { role: string; phase: string }).role, 'trap-instruction');
      assert.equal((e.landmark as { phase: string }).phase, 'entering');
    });

    it(`${source}: the entry of kvm.sighandler, without 0x`, () => {
      const e = explainJson(source, source === '--binary' ? binary : listing, sighandler.toString(16));
      assert.equal(e.where, 'minibluepill/kvm.sighandler');
      assert.equal((e.landmark as { role: string }).role, 'sighandler');
      assert.equal((e.landmark as { phase: string }).phase, 'trapped');
    });
  }

  it('names a CALL target from the binary alone', () => {
    const handler = readElfFunctions(binary).functions.find((f) => f.name === 'minibluepill/kvm.sighandler.abi0')!;
    // The BL in sighandler, found by reading the listing as a user would.
    const lines = fs.readFileSync(listing, 'utf8').split('\n');
    const call = lines.find((l) => /CALL minibluepill\/kvm\.bluepillHandler/.test(l) && Number(/0x([0-9a-f]+)/.exec(l)![0]) >= Number(handler.address))!;
    const address = /0x([0-9a-f]+)/.exec(call)![0];
    const e = explainJson('--binary', binary, address);
    assert.match(String(e.instruction), /^CALL minibluepill\/kvm\.bluepillHandler(\.abi0)?\(SB\)$/);
  });

  it('says what is wrong with bad input, with exit status 2 or 1', () => {
    const bad = spawnSync(process.execPath, [cliBundle, 'explain', '--binary', binary, 'zz'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /"zz" is not an address: write it in hex/);
    const missing = spawnSync(process.execPath, [cliBundle, 'explain', '--objdump', '/nonexistent', '0x1'], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /"\/nonexistent" does not exist: give the path of the listing/);
    const outside = spawnSync(process.execPath, [cliBundle, 'explain', '--objdump', listing, '0x10'], { encoding: 'utf8' });
    assert.equal(outside.status, 1);
    assert.match(outside.stderr, /not an instruction address/);
  });
});
