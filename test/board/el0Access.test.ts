// The EL0 table is a measurement, and stays one: tools/gen-el0-access.mjs runs its probe in
// the emulated board (a real ARM64 Linux) and the committed tables must be what it measures.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { boardUnavailable } from '../support/board';
import { repoRoot } from '../support/paths';
import { el0Outcome } from '../../adapter/arm64/el0Access';
import { fieldByName } from '../../adapter/arm64/sysregs';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

describe('ARM64 board: which system register accesses complete at EL0 under Linux', { skip: unavailable ?? false }, () => {
  it('tools/gen-el0-access.mjs --check: the committed tables are what the board measures now', { timeout: 30 * 60_000 }, () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'tools', 'gen-el0-access.mjs'), '--check'], { encoding: 'utf8', timeout: 30 * 60_000 });
    assert.equal(r.status, 0, `${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`);
    assert.match(r.stderr, /matches the measurement/);
  });

  it('what the tool says follows from it: the bluepill\'s MRS traps, MIDR_EL1 is emulated, DAIF traps although EL0 may by its encoding', () => {
    assert.equal(el0Outcome(fieldByName('TPIDR_EL1')!, 'mrs'), 'sigill');
    assert.equal(el0Outcome(fieldByName('MIDR_EL1')!, 'mrs'), 'emulated');
    assert.equal(el0Outcome(fieldByName('DAIF')!, 'mrs'), 'sigill');
    assert.equal(el0Outcome(fieldByName('TPIDR_EL0')!, 'msr'), 'completes');
  });
});
