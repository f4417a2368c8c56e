// The instructions Explain This PC says user space may not run, run: each one in the
// traps fixture, natively on amd64 and under qemu-aarch64 (Linux's user-mode ABI) for
// arm64. The signal the Go runtime reports must be the one the table says, and explain
// of the instruction's address in the binary must say so too.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { buildFixture } from '../support/fixtures';
import { cliBundle } from '../support/paths';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { hostTraps } from '../../adapter/explain/hostTraps';

/** The signal a Go program died of: "SIGILL: illegal instruction" or "[signal SIGSEGV: ...]". */
function signalOf(stderr: string): string | undefined {
  return /^(SIG[A-Z]+): /m.exec(stderr)?.[1] ?? /^\[signal (SIG[A-Z]+):/m.exec(stderr)?.[1];
}

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`instructions user space may not run (${arch}): the signal Linux gives, as explain says`, () => {
    const binary = buildFixture('traps', { goarch: arch });
    const run = (name: string) => (arch === 'arm64' ? spawnSync('qemu-aarch64-static', [binary, name], { encoding: 'utf8', timeout: 60_000 }) : spawnSync(binary, [name], { encoding: 'utf8', timeout: 60_000 }));
    const functions = readElfFunctions(binary).functions;

    it('the fixture runs exactly the table\'s instructions', () => {
      const listed = (arch === 'arm64' ? execFileSync('qemu-aarch64-static', [binary, '-list'], { encoding: 'utf8' }) : execFileSync(binary, ['-list'], { encoding: 'utf8' })).trim().split('\n');
      assert.deepEqual(listed, hostTraps(arch).map((t) => t.name).sort());
    });

    for (const trap of hostTraps(arch)) {
      it(`${trap.name}: ${trap.signal}`, () => {
        const r = run(trap.name);
        assert.equal(r.status, 2, `the Go runtime exits 2 after a fatal signal: ${r.stdout}${r.stderr.slice(0, 400)}`);
        assert.equal(signalOf(r.stderr), trap.signal, r.stderr.slice(0, 400));
        // The instruction is the first of its function (main.<lower-case name>).
        const fn = functions.find((f) => f.name === `main.${trap.name.toLowerCase()}.abi0`);
        assert.ok(fn, `main.${trap.name.toLowerCase()} in the binary`);
        const e = JSON.parse(execFileSync(process.execPath, [cliBundle, 'explain', '--binary', binary, `0x${fn.address.toString(16)}`, '--json'], { encoding: 'utf8' }));
        assert.equal(e.inHost, `${trap.name} traps at ${arch === 'arm64' ? 'EL0' : 'ring 3'}: Linux delivers ${trap.signal} (measured by running it${arch === 'arm64' ? ', under qemu-aarch64' : ''}).`);
      });
    }
  });
}
