// Attaching: to a local process (as the picker would), and to a dlv already
// attached on a "board" (a headless dlv on loopback), including a dropped link.
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { openSession, proxyClient, spawnListeningDlv, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv, isAlive, startProcess, stopAll, type Running } from '../support/processes';

async function hitBreakpoint(dc: RecordingClient): Promise<DebugProtocol.StoppedEvent> {
  const bps = await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
  assert.equal(bps.body.breakpoints[0].verified, true);
  const stopped = dc.waitForEvent('stopped');
  await dc.configurationDoneRequest();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

/** `dlv --headless --listen --accept-multiclient attach PID`, as on the board in the notes. */
function headlessDlv(pid: number): ReturnType<typeof spawnListeningDlv> {
  return spawnListeningDlv(['--headless', '--listen=127.0.0.1:0', '--accept-multiclient', 'attach', String(pid)]);
}

describe('attach through the proxy', () => {
  let program: string;
  let target: Running;
  let dc: RecordingClient | undefined;
  const before_ = dlvPids();

  before(() => {
    program = buildFixture('hello');
  });
  afterEach(async () => {
    await dc?.stop();
    dc = undefined;
    await stopAll();
  });
  after(async () => {
    await expectNoNewDlv(before_);
  });

  it('attaches to a running process by pid (a numeric string, as a picker returns it), stops, and detaches leaving it running', async () => {
    target = await startProcess(program, ['-forever'], /ready/);
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'local', processId: String(target.pid) });
    const stop = await hitBreakpoint(dc);
    const stack = await dc.stackTraceRequest({ threadId: stop.body.threadId!, levels: 5 });
    assert.equal(stack.body.stackFrames[0].name, 'main.square');
    await dc.disconnectRequest({});
    await dc.stop();
    dc = undefined;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(isAlive(target.pid), 'the attached process keeps running after detach');
  });

  it('connects to a remote headless dlv (attach mode remote) and debugs through it', async () => {
    target = await startProcess(program, ['-forever'], /ready/);
    const board = await headlessDlv(target.pid);
    try {
      dc = await proxyClient();
      await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
      const stop = await hitBreakpoint(dc);
      const stack = await dc.stackTraceRequest({ threadId: stop.body.threadId!, levels: 5 });
      assert.deepEqual(stack.body.stackFrames.slice(0, 2).map((f) => f.name), ['main.square', 'main.compute']);

      // The board's dlv dies: the client hears why, then `terminated`; nothing hangs.
      const terminated = dc.waitForEvent('terminated');
      board.dlv.kill('SIGKILL');
      await terminated;
      assert.match(dc.outputText(), /connection to dlv at 127\.0\.0\.1:\d+ was closed/);
      const late = await dc.request('threads');
      assert.equal(late.success, false);
    } finally {
      board.dlv.kill('SIGKILL');
    }
  });
});
