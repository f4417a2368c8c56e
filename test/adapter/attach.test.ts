// Attaching: to a local process (as the picker would), and to a dlv already
// attached on a "board" (a headless dlv on loopback), including a dropped link.
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
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

  it('waitFor: the attach waits for a process whose command line starts so, attaches when it starts, and stops in it (issue 19.12)', async () => {
    // A copy of the program under a name no other process has.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-waitfor-'));
    const copy = path.join(dir, `waitfor-${process.pid}`);
    fs.copyFileSync(program, copy);
    fs.chmodSync(copy, 0o755);
    let stopStarted = () => {};
    try {
      dc = await proxyClient();
      await dc.initializeRequest();
      const attached = Promise.all([dc.attachRequest({ mode: 'local', waitFor: copy } as never), dc.waitForEvent('initialized', 30_000)]);
      await new Promise((r) => setTimeout(r, 300)); // dlv is looking: the process starts after the attach
      // Started directly: dlv stops it as soon as it finds it, before it can print anything.
      const started = spawn(copy, ['-forever'], { stdio: 'ignore' });
      stopStarted = () => {
        if (started.exitCode === null && started.signalCode === null) started.kill('SIGKILL');
      };
      await attached;
      const stop = await hitBreakpoint(dc);
      const stack = await dc.stackTraceRequest({ threadId: stop.body.threadId!, levels: 5 });
      assert.equal(stack.body.stackFrames[0].name, 'main.square', 'attached to the process that started');
      assert.match(dc.outputText(), new RegExp(`waiting for a process whose command line starts with ".*waitfor-${process.pid}"\\.\\.\\.\\n.*process ${started.pid} started; attaching to it`, 's'));
      await dc.disconnectRequest({});
      await dc.stop();
      dc = undefined;
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(isAlive(started.pid!), 'detached, it runs on');
    } finally {
      stopStarted();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waitFor for a process that never starts: a disconnect ends the wait, and both are answered', async () => {
    dc = await proxyClient();
    await dc.initializeRequest();
    const attach = dc.request('attach', { mode: 'local', waitFor: `/nonexistent/never-${process.pid}` });
    await new Promise((r) => setTimeout(r, 300));
    const disconnect = await dc.request('disconnect', {});
    assert.equal(disconnect.success, true);
    const refused = await attach;
    assert.equal(refused.success, false);
    assert.match(refused.message ?? '', /No process whose command line starts with "\/nonexistent\/never-\d+" started before the attach was cancelled/);
  });

  it('waitFor and processId together, or neither: a message that says which to use', async () => {
    dc = await proxyClient();
    await dc.initializeRequest();
    const both = await dc.request('attach', { mode: 'local', waitFor: 'runsc-sandbox', processId: 1234 });
    assert.match(both.message ?? '', /takes "processId" or "waitFor", not both/);
    const neither = await dc.request('attach', { mode: 'local' });
    assert.match(neither.message ?? '', /needs "processId".*set "waitFor" to the start of its command line instead/s);
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
