// The terminal that runs the DAP client closes (SIGHUP to the adapter's process
// group), or the client is interrupted: the adapter detaches cleanly. dlv runs in a
// process group of its own, so the signal does not kill it under a process stopped
// at a breakpoint (which would then die of SIGTRAP on the breakpoint left in it).
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { openSession, RecordingClient } from '../support/client';
import { adapterBundle, ensureBundles, ensureDlv } from '../support/paths';
import { dlvPids, expectNoNewDlv, isAlive, startProcess, stopAll } from '../support/processes';

/** The state letter and the tracer of a process, from /proc. */
function status(pid: number): { state: string; tracerPid: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { state: /^State:\s+(\S)/m.exec(text)![1], tracerPid: Number(/^TracerPid:\s+(\d+)/m.exec(text)![1]) };
}

describe('signals to the stdio adapter', () => {
  let program: string;
  const before_ = dlvPids();
  before(() => {
    program = buildFixture('hello');
    ensureBundles();
  });
  afterEach(() => stopAll());
  after(() => expectNoNewDlv(before_));

  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to the adapter's process group while attached and stopped at a breakpoint: the process is detached and runs on`, async () => {
      const target = await startProcess(program, ['-forever'], /ready/);
      // The adapter leads a process group of its own, as in the terminal that runs nvim.
      const dc = new RecordingClient(process.execPath, adapterBundle, { env: { ...process.env, BLUEPILL_DLV_PATH: ensureDlv() }, detached: true });
      await dc.start();
      await openSession(dc, 'attach', { mode: 'local', processId: target.pid });
      await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      await stopped;
      assert.notEqual(status(target.pid).tracerPid, 0, 'dlv traces it');

      const adapter = dc.adapterProcess!;
      const exited = new Promise((r) => adapter.once('exit', r));
      process.kill(-adapter.pid!, signal);
      await exited;
      // Stopped at a breakpoint in a loop that runs every 20 ms: a breakpoint left in it would kill it at once.
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(isAlive(target.pid), `the attached process survives the adapter's ${signal}`);
      const after = status(target.pid);
      assert.equal(after.tracerPid, 0, 'detached');
      assert.match(after.state, /^[RS]$/, 'running, not left stopped');
      await expectNoNewDlv(before_);
      await (dc as unknown as DebugProtocol.ProtocolMessage & { stop(): Promise<void> }).stop();
    });
  }
});
