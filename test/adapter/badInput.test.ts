// Every bad input ends in a clear message that says what to do; nothing hangs and
// no dlv is left behind.
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { directClient, dlvDapServer, openSession, proxyClient, unusedPort, type RecordingClient } from '../support/client';
import { ensureDlv } from '../support/paths';
import { dlvPids, expectNoNewDlv, isAlive, startProcess, stopAll } from '../support/processes';

const NOBODY = 65534;
const noDlvOnPath = { PATH: '/usr/bin:/bin', BLUEPILL_DLV_PATH: undefined };

/** The text VS Code would show for a failed response. */
function shown(r: DebugProtocol.Response): string {
  return (r as DebugProtocol.ErrorResponse).body?.error?.format ?? r.message ?? '';
}

describe('bad input', () => {
  let program: string;
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

  async function failedStart(request: 'launch' | 'attach', args: Record<string, unknown>, env = {}, ids: { uid?: number; gid?: number } = {}): Promise<string> {
    dc = await proxyClient({ env, ...ids });
    const init = await dc.request('initialize', { adapterID: 'bluepill', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    assert.equal(init.success, true, 'initialize itself succeeds');
    const r = await dc.request(request, args);
    assert.equal(r.success, false, `${request} should fail`);
    return shown(r);
  }

  it('dlv missing from PATH: says how to install it', async () => {
    const text = await failedStart('launch', { mode: 'exec', program }, noDlvOnPath);
    assert.match(text, /dlv was not found on PATH/);
    assert.match(text, /go install github\.com\/go-delve\/delve\/cmd\/dlv@v1\.27\.2/);
  });

  it('dlvPath pointing nowhere: names the path and the setting', async () => {
    const text = await failedStart('launch', { mode: 'exec', program, dlvPath: '/nonexistent/dlv' });
    assert.match(text, /dlv was not found at "\/nonexistent\/dlv"/);
    assert.match(text, /bluepill\.dlvPath/);
  });

  it('processId missing: says how to pick one, in the client\'s terms (a VS Code command for VS Code only)', async () => {
    const text = await failedStart('attach', { mode: 'local' });
    assert.match(text, /needs "processId"/);
    assert.match(text, /`bluepill-lens processes`/);
    assert.doesNotMatch(text, /Bluepill: Pick|\$\{command:/, 'no VS Code command for a stdio client');
    await dc!.stop();
    dc = await proxyClient();
    await dc.request('initialize', { adapterID: 'bluepill', clientID: 'vscode' });
    const inVsCode = shown(await dc.request('attach', { mode: 'local' }));
    assert.match(inVsCode, /"Bluepill: Pick Sandbox Process".*\$\{command:bluepill\.pickSandboxProcess\}/);
  });

  it('a pid that is a kernel thread (2), or that no process has: said so, with how to find the right one', async () => {
    assert.match(await failedStart('attach', { mode: 'local', processId: 2 }), /Process 2 \(kthreadd\) is a kernel thread: it runs no program, so there is nothing to attach to\. Find it with `bluepill-lens processes`/);
    await dc!.stop();
    assert.match(await failedStart('attach', { mode: 'local', processId: 4194303 }), /There is no process 4194303 on this machine/);
  });

  it('processId not a number', async () => {
    const text = await failedStart('attach', { mode: 'local', processId: 'runsc' });
    assert.match(text, /"processId" must be a whole number, 0 or more, but it is string "runsc"/);
  });

  it('launch attributes of the wrong type: each one named', async () => {
    const text = await failedStart('launch', { mode: 'exec', program: 42, args: '-forever', showRegisters: 'yes' });
    assert.match(text, /"program" must be a string, but it is number 42/);
    assert.match(text, /"args" must be an array, but it is string "-forever"/);
    assert.match(text, /"showRegisters" must be a boolean/);
  });

  it('a misspelt attribute: named with the one meant; an error when the one meant is missing, a warning otherwise (issue 19.5)', async () => {
    const text = await failedStart('launch', { mode: 'exec', progam: program });
    assert.match(text, /needs "program".*"progam" is ignored: a bluepill launch has no such attribute\. Did you mean "program"\?/s);
    await dc!.stop();
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, stopOnEntyr: true, Args: ['-print'] });
    assert.match(dc.outputText(), /"stopOnEntyr" is ignored: a bluepill launch has no such attribute\. Did you mean "stopOnEntry"\?/);
    assert.match(dc.outputText(), /"Args" is read as "args"; write it so\./);
  });

  it('unknown mode: lists the valid ones', async () => {
    const text = await failedStart('launch', { mode: 'replay', program });
    assert.match(text, /"mode" must be one of "exec", "core", "debug", "test", but it is string "replay"/);
  });

  it('attach not permitted: explains root and ptrace_scope', async () => {
    const target = await startProcess(program, ['-forever'], /ready/);
    const text = await failedStart('attach', { mode: 'local', processId: target.pid }, { HOME: '/tmp' }, { uid: NOBODY, gid: NOBODY });
    assert.match(text, /[Cc]ould not attach to pid \d+/, 'dlv\'s own words come first');
    assert.match(text, /"asRoot": true/);
    assert.match(text, /ptrace_scope/);
  });

  it('asRoot without sudo installed (as a normal user): says to install sudo or run as root', { skip: hasSudo() ? 'sudo is installed here' : false }, async () => {
    const text = await failedStart('launch', { mode: 'exec', program, asRoot: true }, { HOME: '/tmp' }, { uid: NOBODY, gid: NOBODY });
    assert.match(text, /sudo is not installed/);
  });

  it('a process that is not a Go program: attached (as dlv does), with a warning that says what to attach to instead (issue 19.13)', async () => {
    const sleeper = await startProcess('/bin/sh', ['-c', 'echo ready; exec sleep 60'], /ready/);
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'local', processId: sleeper.pid });
    assert.match(dc.outputText(), new RegExp(`Process ${sleeper.pid} \\(.*sleep\\) has no Go build information: dlv attaches, but without Go's symbols it shows little`));
    assert.match(dc.outputText(), /runsc-sandbox boot/);
    assert.equal((await dc.request('disconnect', { terminateDebuggee: false })).success, true);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(isAlive(sleeper.pid), 'detached, the process runs on');
  });

  it('remote connection refused: says how to start dlv on the board', async () => {
    const port = await unusedPort();
    const text = await failedStart('attach', { mode: 'remote', host: '127.0.0.1', port });
    assert.match(text, new RegExp(`Could not connect to 127\\.0\\.0\\.1:${port}: connection refused`));
    assert.match(text, /dlv --headless --listen=:\d+ --accept-multiclient attach/);
  });

  it('attach mode remote to a `dlv dap` server (no program yet): dlv\'s "no debugger found", with how to start dlv for an attach', async () => {
    const server = await dlvDapServer();
    try {
      const text = await failedStart('attach', { mode: 'remote', host: '127.0.0.1', port: server.port });
      assert.match(text, /no debugger found/);
      assert.match(text, /started as `dlv dap`, which waits for a launch\. For attach mode "remote", start dlv on the board with the program: `dlv --headless/);
    } finally {
      await dc?.stop();
      dc = undefined;
      await server.stop();
    }
  });

  it('dlv dies mid-session: output with its exit status and stderr, then terminated', async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-forever'] });
    await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    const dlv = childDlvOf(dc.adapterProcess!.pid!);
    const terminated = dc.waitForEvent('terminated');
    process.kill(dlv, 'SIGKILL');
    await terminated;
    assert.match(dc.outputText(), /dlv was killed by SIGKILL in the middle of the session/);
    const after = await dc.request('stackTrace', { threadId: 1 });
    assert.equal(after.success, false, 'requests after the loss fail instead of hanging');
    // The session did launch: the answer says it has ended, and why; not "launch first".
    assert.match(shown(after), /"stackTrace" cannot run: dlv was lost, and this debug session has ended \(dlv was killed by SIGKILL/);
    assert.doesNotMatch(shown(after), /send "launch" or "attach" first/);
    const relaunch = await dc.request('launch', { mode: 'exec', program });
    assert.match(shown(relaunch), /Cannot launch: dlv was lost, and this debug session has ended/);
  });

  it('a second launch or attach that names another dlv (other dlvFlags, a remote dlv): refused; the program being debugged stays as it was', async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-forever'] });
    await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    const dlv = childDlvOf(dc.adapterProcess!.pid!);
    const other = await dc.request('launch', { mode: 'exec', program, args: ['-forever'], dlvFlags: ['--check-go-version=false'] });
    assert.equal(other.success, false);
    assert.match(shown(other), /^Cannot launch: this debug session has launched or attached already\. End this debug session, then start a new one/);
    const remote = await dc.request('attach', { mode: 'remote', host: '127.0.0.1', port: await unusedPort() });
    assert.match(shown(remote), /^Cannot attach: this debug session has launched or attached already/);
    assert.ok(isAlive(dlv), 'the same dlv');
    const frames = (await dc.stackTraceRequest({ threadId, levels: 5 })).body.stackFrames;
    assert.equal(frames[0].name, 'main.square', 'still stopped where it was');
    assert.equal(dc.events('initialized').length, 1, 'no second session started');
    assert.equal(dc.events('terminated').length, 0);
  });

  it('the client vanishes mid-session: the adapter exits, and takes dlv and the debuggee with it', async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-forever'] });
    await dc.configurationDoneRequest();
    const adapter = dc.adapterProcess!;
    const dlv = childDlvOf(adapter.pid!);
    const debuggee = Number(execFileSync('pgrep', ['-P', String(dlv)], { encoding: 'utf8' }).trim().split('\n')[0]);
    const exited = new Promise((r) => adapter.once('exit', r));
    // Both pipes close, as when an editor crashes: reads see EOF, writes fail with EPIPE.
    adapter.stdout!.destroy();
    adapter.stdin!.destroy();
    await exited;
    dc = undefined;
    for (let i = 0; i < 50 && (isAlive(dlv) || isAlive(debuggee)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(isAlive(dlv), false, 'dlv is gone');
    assert.equal(isAlive(debuggee), false, 'the debuggee is gone');
  });

  it('a well-framed message that is not DAP: reported, ignored, and the session goes on', async () => {
    dc = await proxyClient();
    const notDap = '{"type":"banana"}';
    dc.adapterProcess!.stdin!.write(`Content-Length: ${Buffer.byteLength(notDap)}\r\n\r\n${notDap}`);
    await openSession(dc, 'launch', { mode: 'exec', program });
    const threads = await dc.threadsRequest();
    assert.ok(threads.body.threads.length > 0);
    assert.match(dc.outputText(), /ignored a malformed message from the client: not a DAP message: \{"type":"banana"\}/);
  });

  it('a request nested thousands deep (in its seq or an argument): an error response, and the session goes on', async () => {
    dc = await proxyClient();
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const stdin = dc.adapterProcess!.stdin!;
    for (const body of [`{"seq":${deep(6000)},"type":"request","command":"threads"}`, `{"seq":900,"type":"request","command":"evaluate","arguments":{"expression":${deep(6000)}}}`]) {
      stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    await openSession(dc, 'launch', { mode: 'exec', program });
    const threads = await dc.threadsRequest();
    assert.ok(threads.body.threads.length > 0, 'the session goes on');
    const refused = dc.received.filter((m): m is DebugProtocol.Response => m.type === 'response' && !(m as DebugProtocol.Response).success && /nested/.test(shown(m as DebugProtocol.Response)));
    assert.deepEqual(refused.map((r) => [r.command, r.request_seq]), [['threads', 0], ['evaluate', 900]]);
    assert.match(shown(refused[0]), /nested more than 64 levels deep/);
  });

  it('initialize before any dlv is found answers the pinned dlv\'s own capabilities (issue 19.10); the launched dlv\'s follow as an event', async () => {
    const direct = await directClient();
    let real: DebugProtocol.Capabilities | undefined;
    try {
      real = (await direct.client.initializeRequest({ adapterID: 'go', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true })).body;
    } finally {
      await direct.stop();
    }
    dc = await proxyClient({ env: noDlvOnPath }); // no dlv until the launch names one
    const init = await dc.request('initialize', { adapterID: 'bluepill', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    assert.deepEqual(init.body, real, 'the same capabilities as dlv answers itself (log points, set variable, exception filters, read memory...)');
    await Promise.all([dc.launchRequest({ mode: 'exec', program, dlvPath: ensureDlv() } as never), dc.waitForEvent('initialized')]);
    const event = dc.events('capabilities')[0];
    assert.deepEqual((event?.body as { capabilities: unknown }).capabilities, real);
  });

  it('disconnect when dlv never started (initialize only, or a refused launch): answered, then terminated', async () => {
    for (const launch of [undefined, { mode: 'exec', program: '/nonexistent/program' }]) {
      dc = await proxyClient({ env: noDlvOnPath }); // no dlv named up front: none starts at initialize
      await dc.request('initialize', { adapterID: 'bluepill' });
      if (launch) assert.equal((await dc.request('launch', launch)).success, false);
      const adapter = dc.adapterProcess!;
      const exited = new Promise((r) => adapter.once('exit', r));
      const disconnect = await dc.request('disconnect', {});
      assert.equal(disconnect.success, true);
      await exited;
      // The recorded messages, not DebugClient's own event (it makes one up when the adapter exits).
      const after = dc.received.slice(dc.received.findIndex((m) => m.type === 'response' && (m as DebugProtocol.Response).command === 'disconnect'));
      assert.ok(after.some((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'terminated'), `terminated after disconnect${launch ? ' (after a refused launch)' : ''}`);
    }
  });

  it('a device, a FIFO, a text file or a program where a binary or core belongs: said at once, never handed to dlv', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-paths-'));
    try {
      const fifo = path.join(dir, 'pipe');
      execFileSync('mkfifo', [fifo]);
      const text = path.join(dir, 'notes.txt');
      fs.writeFileSync(text, 'not a program\n');
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ mode: 'core', program, coreFilePath: '/dev/zero' }, /"coreFilePath" is "\/dev\/zero", a character device, not a file\. Give the core file the crash left/],
        [{ mode: 'core', program, coreFilePath: '/dev/urandom' }, /"coreFilePath" is "\/dev\/urandom", a character device/],
        [{ mode: 'core', program, coreFilePath: fifo }, /"coreFilePath" is ".*pipe", a named pipe \(FIFO\), not a file/],
        [{ mode: 'exec', program: fifo }, /"program" is ".*pipe", a named pipe \(FIFO\), not a file\. Give the Go binary/],
        [{ mode: 'exec', program: text }, /"program" is ".*notes\.txt", which is not an ELF file\. Give the Go binary/],
        [{ mode: 'core', program, coreFilePath: program }, /an ELF file that is not a core file \(its type is ET_EXEC/],
      ];
      for (const [args, expected] of cases) {
        assert.match(await failedStart('launch', args), expected);
        await dc!.stop(); // disconnect answers at once (a FIFO handed to dlv hung it)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a program this user may not read: says so, and how (asRoot or chmod)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-unreadable-'));
    try {
      fs.chmodSync(dir, 0o755);
      const secret = path.join(dir, 'hello');
      fs.copyFileSync(program, secret);
      fs.chmodSync(secret, 0o700); // root's alone
      const text = await failedStart('launch', { mode: 'exec', program: secret }, { HOME: '/tmp' }, { uid: NOBODY, gid: NOBODY });
      assert.match(text, /"program" is ".*hello", which this user may not read\. Make it readable \(chmod\), or set "asRoot": true/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requests dlv would die of (a field of the wrong JSON type, a message over 4 MiB): an error response naming the field, and the session goes on (issue 19.5)', async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-forever'] });
    await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const threadId = ((await stopped).body as { threadId: number }).threadId;
    const dlv = childDlvOf(dc.adapterProcess!.pid!);
    const frameId = (await dc.stackTraceRequest({ threadId })).body.stackFrames[0].id;
    const cases: [string, unknown, RegExp][] = [
      ['stackTrace', { threadId: String(threadId) }, /"threadId" must be a whole number, but it is string/],
      ['stackTrace', { threadId, levels: 20.5 }, /"levels" must be a whole number, but it is number 20\.5/],
      ['stackTrace', { ThreadId: threadId, startFrame: 2 ** 64 }, /"startFrame" must be a whole number/],
      ['scopes', { frameId: [frameId] }, /"frameId" must be a whole number, but it is array/],
      ['variables', { variablesReference: true }, /"variablesReference" must be a whole number, but it is boolean true/],
      ['evaluate', { expression: 42, frameId }, /"expression" must be a string, but it is number 42/],
      ['setBreakpoints', { source: [fixtureSource('hello')], breakpoints: [] }, /"source" must be an object, but it is array/],
      ['setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [{ line: '16' }] }, /"breakpoints\[0\]\.line" must be a whole number, but it is string "16"/],
      ['continue', { threadId, singleThread: 'no' }, /"singleThread" must be a boolean/],
      ['disassemble', 'main.main', /"arguments" must be an object, but it is string "main\.main"/],
      ['evaluate', { expression: 'x'.repeat(4 * 1024 * 1024), frameId }, /The "evaluate" request is 4\.2 MB; dlv accepts at most 4 MiB per message/],
      ['bluepill/explain', { address: '1'.repeat(20_000_000) }, /The "bluepill\/explain" request is 20\.0 MB/],
    ];
    for (const [command, args, expected] of cases) {
      const r = await dc.request(command, args);
      assert.equal(r.success, false, `${command} ${JSON.stringify(args).slice(0, 60)} is refused`);
      assert.match(shown(r), expected);
      assert.match(shown(r), /was not run|make it smaller/, 'says it was not run');
    }
    const trace = await dc.stackTraceRequest({ threadId, levels: 20 });
    assert.ok(trace.body.stackFrames.length > 0, 'the session goes on');
    assert.ok(isAlive(dlv), 'dlv is still running');
    assert.equal(dc.events('terminated').length, 0);
  });

  it("dlv's errors in the client's terms: the client's seq, not the proxy's; no internal dlv address (issue 19, messages)", async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-forever'] });
    // Requests the proxy answers itself: the client's seq runs ahead of the one dlv sees.
    for (let i = 0; i < 3; i++) assert.equal((await dc.request('stackTrace', 'not an object')).success, false);
    const unknown = await dc.request('fooBar', {});
    assert.equal(unknown.success, false);
    assert.match(shown(unknown), new RegExp(`Request command 'fooBar' is not supported \\(seq: ${unknown.request_seq}\\)`), "the client's own seq");
    const again = await dc.request('launch', { mode: 'exec', program });
    assert.equal(again.success, false);
    assert.doesNotMatch(shown(again), /127\.0\.0\.1:\d+/, "the proxy's own dlv address is not shown");
    assert.match(shown(again), /this debug session has launched or attached already\. End this debug session, then start a new one/);
  });

  it('a program nobody may execute: said before dlv runs it, with the chmod to run', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-noexec-'));
    try {
      const copy = path.join(dir, 'hello');
      fs.copyFileSync(program, copy);
      fs.chmodSync(copy, 0o644);
      const text = await failedStart('launch', { mode: 'exec', program: copy });
      assert.match(text, /"program" is ".*hello", which may not be executed \(no x permission\)\. Run `chmod \+x .*hello`/);
      assert.doesNotMatch(text, /Go program|ptrace/, 'no advice about something else');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken frame from the client: the session ends with a message saying so, and dlv with it', async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-forever'] });
    const dlv = childDlvOf(dc.adapterProcess!.pid!);
    const terminated = dc.waitForEvent('terminated');
    const garbage = '{"this is": not json';
    dc.adapterProcess!.stdin!.write(`Content-Length: ${Buffer.byteLength(garbage)}\r\n\r\n${garbage}`);
    await terminated;
    assert.match(dc.outputText(), /the client sent a broken DAP frame \(a body is not JSON: \{"this is": not json\); ending the session/);
    const deadline = Date.now() + 8000;
    while (isAlive(dlv) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!isAlive(dlv), 'dlv was stopped with the session');
  });
});

function childDlvOf(adapterPid: number): number {
  const out = execFileSync('pgrep', ['-P', String(adapterPid), '-x', 'dlv'], { encoding: 'utf8' }).trim();
  return Number(out.split('\n')[0]);
}

function hasSudo(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v sudo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
