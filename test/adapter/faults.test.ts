// Faults injected on purpose into real sessions with the pinned dlv, the proxy running
// in this process as VS Code runs it inline: dlv killed at random points, a remote that
// hangs up mid-request, a remote that never answers, requests pending at the end, and
// the proxy's own requests failing while the program runs.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { defaultHooks } from '../../adapter/hooks';
import { listeningAddresses } from '../../adapter/dlv/listeners';
import { frame, FrameReader } from '../../adapter/dap/framing';
import type { ProxyContext, ProxyHook } from '../../adapter/session/hooks';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { ensureDlv } from '../support/paths';
import { InProcessSession } from '../support/inProcess';
import { dlvPids, expectNoNewDlv, isAlive, startProcess } from '../support/processes';

/** A small seeded generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Processes whose executable is `program`. */
function running(program: string): number[] {
  const target = fs.realpathSync(program);
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/exe`) === target;
    } catch {
      return false;
    }
  });
}

/** Children of `pid` whose executable is `program`. */
function childrenRunning(pid: number, program: string): number[] {
  const target = fs.realpathSync(program);
  try {
    const children = fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    return children.filter((c) => {
      try {
        return fs.readlinkSync(`/proc/${c}/exe`) === target;
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** Every child of `pid`, from all its threads. */
function childrenOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Whether `pid` has a listening TCP socket (its fds against /proc/PID/net/tcp). */
function listens(pid: number): boolean {
  return (listeningAddresses(pid) ?? []).length > 0;
}

/** dlvs earlier loops of a test spawned (a pid is looked for among new ones only). */
const seenDlvs = new Set<number>();

const problems: unknown[] = [];
const onProblem = (e: unknown) => problems.push(e);

describe('faults', () => {
  let program: string;
  let dlvPath: string;
  /** Closed in after(), even when an assertion stopped a test half-way. */
  const sessions: InProcessSession[] = [];
  const open = (options: ConstructorParameters<typeof InProcessSession>[0]) => {
    const s = new InProcessSession(options);
    sessions.push(s);
    return s;
  };
  const dlvBefore = dlvPids();
  before(() => {
    program = buildFixture('hello');
    dlvPath = ensureDlv();
    process.on('unhandledRejection', onProblem);
    process.on('uncaughtException', onProblem);
  });
  after(async () => {
    for (const s of sessions) await s.close();
    process.off('unhandledRejection', onProblem);
    process.off('uncaughtException', onProblem);
    await expectNoNewDlv(dlvBefore);
    assert.deepEqual(problems, [], 'no unhandled rejection or uncaught exception in the proxy\'s process');
  });

  /** A scripted session, one request per step, with a stop to work on. */
  function steps(s: InProcessSession): Array<() => Promise<unknown>> {
    let threadId = 1;
    let frameId = 0;
    let stops = 0;
    const stopped = async (send: () => Promise<unknown>) => {
      await send();
      const e = (await s.event('stopped', stops++)) as DebugProtocol.StoppedEvent | undefined;
      threadId = e?.body.threadId ?? threadId;
    };
    return [
      () => s.request('initialize', { adapterID: 'bluepill' }),
      () => s.request('launch', { mode: 'exec', program, args: ['-forever'] }),
      () => s.request('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] }),
      () => stopped(() => s.request('configurationDone')),
      () => s.request('threads'),
      async () => {
        const r = (await s.request('stackTrace', { threadId, levels: 20 })) as DebugProtocol.StackTraceResponse | undefined;
        frameId = r?.body?.stackFrames?.[0]?.id ?? 0;
      },
      () => s.request('scopes', { frameId }),
      () => s.request('evaluate', { expression: 'x', frameId, context: 'hover' }),
      () => stopped(() => s.request('stepIn', { threadId, granularity: 'instruction' })),
      () => stopped(() => s.request('next', { threadId })),
      () => s.request('disassemble', { memoryReference: '0x401000', instructionCount: 50 }),
      () => stopped(() => s.request('continue', { threadId })),
      () => s.request('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [] }),
      () => s.request('continue', { threadId }),
      () => stopped(() => s.request('pause', { threadId })),
    ];
  }

  it('dlv killed with SIGKILL at 50 random points: the client is told why and gets `terminated` within 2 s, every request is answered, nothing is left running', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rand = random(seed);
      const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
      const script = steps(s);
      const killAt = 1 + Math.floor(rand() * (script.length - 1)); // after launch has begun
      const delayMs = Math.floor(rand() * 30);
      let dlvPid: number | undefined;
      for (let i = 0; i < script.length; i++) {
        if (i === killAt) {
          // Mid-request: the step's request is on its way when dlv dies.
          const step = script[i]();
          await new Promise((r) => setTimeout(r, delayMs));
          await s.until(() => s.proxy.dlvPid !== undefined, 10_000); // launch may still be spawning dlv
          dlvPid = s.proxy.dlvPid;
          assert.ok(dlvPid, `seed ${seed}: dlv is running at step ${i}`);
          process.kill(dlvPid, 'SIGKILL');
          const killedAt = Date.now();
          const told = await s.until(() => s.events('terminated').length > 0, 2000);
          assert.ok(told, `seed ${seed}: \`terminated\` within 2 s of the kill (step ${i}, +${delayMs} ms)`);
          assert.ok(Date.now() - killedAt <= 2100);
          await step;
          break;
        }
        await script[i]();
      }
      const output = s.events('output').map((e) => String(e.body?.output)).join('');
      assert.match(output, /dlv was killed by SIGKILL|dlv .*(exited|stopped answering)/, `seed ${seed}: the output says what happened to dlv`);
      for (const seq of s.requestSeqs) assert.equal(s.responsesTo(seq).length, 1, `seed ${seed}: request ${seq} answered exactly once`);
      await s.close();
      assert.ok(!isAlive(dlvPid!), `seed ${seed}: dlv is gone`);
      await s.until(() => running(program).length === 0, 2000);
      assert.deepEqual(running(program), [], `seed ${seed}: the program dlv launched is not left running`);
    }
    // The host process is still healthy: a new session works end to end.
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
    const script = steps(s);
    for (const step of script.slice(0, 6)) await step();
    assert.equal(s.events('stopped').length, 1);
    assert.ok((await s.request('disconnect', { terminateDebuggee: true }))?.success);
    await s.close();
  });

  it('dlv killed while `launch` is pending: the program it started is ended, a copy started by hand is not', async () => {
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
    await s.request('initialize', { adapterID: 'bluepill' });
    const launch = s.request('launch', { mode: 'exec', program, args: ['-forever'] });
    // The same binary, started by hand after the launch began: the user's, not dlv's.
    const copyStarted = startProcess(program, ['-forever'], /ready/);
    await s.until(() => s.proxy.dlvPid !== undefined, 10_000);
    const dlvPid = s.proxy.dlvPid!;
    assert.ok(await s.until(() => childrenRunning(dlvPid, program).length > 0, 10_000), 'dlv starts the program');
    const launched = childrenRunning(dlvPid, program)[0];
    // Killed a moment after the fork, while dlv loads the program's symbols (launch still pending).
    await new Promise((r) => setTimeout(r, 20));
    process.kill(dlvPid, 'SIGKILL');
    await launch;
    assert.ok(await s.event('terminated', 0, 5000));
    const copy = await copyStarted;
    try {
      assert.ok(await s.until(() => !isAlive(launched), 2000), `the program dlv started (pid ${launched}) is ended`);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(isAlive(copy.pid), `the copy started by hand (pid ${copy.pid}) runs on`);
      const output = s.events('output').map((e) => String(e.body?.output)).join('');
      assert.ok(output.includes(`was ended with it: `) && output.includes(`pid ${launched} (${program})`), output);
      assert.doesNotMatch(output, new RegExp(`pid ${copy.pid}\\b`), 'the message claims only what was ended');
    } finally {
      await copy.stop();
      await s.close();
    }
  });

  it('the client leaves while dlv is starting: that dlv is ended, not left listening (issue 19.6)', async () => {
    const dlvExe = fs.realpathSync(dlvPath);
    for (const when of ['spawned', 'listening'] as const) {
      const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
      await s.request('initialize', { adapterID: 'bluepill' });
      void s.request('launch', { mode: 'exec', program, args: ['-forever'] });
      // The dlv this test's proxy spawned: a child of this process running dlv's binary.
      let dlv: number | undefined;
      assert.ok(await s.until(() => (dlv = childrenOf(process.pid).find((c) => exeOf(c) === dlvExe && !seenDlvs.has(c))) !== undefined, 10_000), 'dlv is spawned');
      seenDlvs.add(dlv!);
      if (when === 'listening') assert.ok(await s.until(() => listens(dlv!), 10_000), 'dlv listens');
      await s.close(); // the client's end closes: the session ends while dlv starts
      assert.ok(await s.until(() => !isAlive(dlv!), 5000), `dlv (pid ${dlv}) is ended when the client leaves once it is ${when}`);
    }
  });

  it('dlv killed right after it answered `launch`: the program it started is ended, and named; its telemetry child is not named (issue 19.6)', async () => {
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
    await s.request('initialize', { adapterID: 'bluepill' });
    const launch = s.request('launch', { mode: 'exec', program, args: ['-forever'] });
    await s.until(() => s.proxy.dlvPid !== undefined, 10_000);
    const dlvPid = s.proxy.dlvPid!;
    assert.ok((await launch)?.success, 'launched');
    const launched = childrenRunning(dlvPid, program)[0];
    assert.ok(launched, 'dlv started the program');
    process.kill(dlvPid, 'SIGKILL');
    assert.ok(await s.event('terminated', 0, 5000));
    try {
      assert.ok(await s.until(() => !isAlive(launched), 3000), `the program dlv started (pid ${launched}) is ended`);
      const output = s.events('output').map((e) => String(e.body?.output)).join('');
      assert.match(output, new RegExp(`What it had started was ended with it: pid ${launched} \\(${program.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\\.`));
      assert.doesNotMatch(output, /bin\/dlv\)/, 'dlv\'s own telemetry child is not named as a program it started');
    } finally {
      if (isAlive(launched)) process.kill(launched, 'SIGKILL');
      await s.close();
    }
  });

  it("attach to this session's own dlv, its telemetry child, or the adapter: refused with a message, at once (issue 19.6)", async () => {
    const s = open({ initialTarget: { kind: 'local', dlvPath, asRoot: false, dlvFlags: [] }, hooks: defaultHooks() });
    await s.request('initialize', { adapterID: 'bluepill' });
    const dlvPid = s.proxy.dlvPid!;
    assert.ok(dlvPid, 'dlv runs from initialize on (VS Code hands the target over)');
    let telemetry: number | undefined;
    await s.until(() => (telemetry = childrenOf(dlvPid)[0]) !== undefined, 5000);
    const targets: [number, RegExp][] = [
      [dlvPid, /is this session's own dlv/],
      [process.pid, /is the bluepill-lens adapter running this session/],
    ];
    if (telemetry) targets.push([telemetry, /is this session's own dlv \(or a helper process dlv started, such as its telemetry\)/]);
    try {
      for (const [pid, expected] of targets) {
        const r = (await s.request('attach', { mode: 'local', processId: pid }, 5000)) as DebugProtocol.ErrorResponse | undefined;
        assert.ok(r, `attach to ${pid} is answered, not left hanging`);
        assert.equal(r.success, false);
        assert.match(r.message ?? '', expected);
        assert.match(r.message ?? '', /cannot attach to itself.*Pick the process you mean to debug/);
      }
      assert.ok(isAlive(dlvPid), 'the session\'s dlv runs on');
    } finally {
      await s.close();
    }
  });

  it('a remote dlv that hangs up mid-request: the pending request fails with a clear error, then `terminated`', async () => {
    const server = net.createServer((socket) => {
      const reader = new FrameReader();
      socket.on('data', (chunk: Buffer) =>
        reader.push(chunk, (json) => {
          const r = JSON.parse(json) as DebugProtocol.Request;
          if (r.command === 'initialize') socket.write(frame(JSON.stringify({ seq: 1, type: 'response', request_seq: r.seq, command: r.command, success: true, body: {} })));
          else socket.destroy(); // hangs up on the next request, unanswered
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const s = open({ hooks: defaultHooks() });
    try {
      assert.ok((await s.request('initialize', { adapterID: 'bluepill' }))?.success);
      const attach = await s.request('attach', { mode: 'remote', host: '127.0.0.1', port }, 5000);
      assert.equal(attach?.success, false);
      assert.match(String(attach?.message), /dlv did not answer "attach": The connection to dlv at 127\.0\.0\.1:\d+ was closed/);
      assert.equal(s.events('terminated').length, 1);
    } finally {
      await s.close();
      server.close();
    }
  });

  it('a remote that accepts and never answers: a clear error after the handshake limit (30 s; 3 s here), not a hang', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const s = open({ hooks: defaultHooks(), handshakeTimeoutMs: 3000 });
    try {
      assert.ok((await s.request('initialize', { adapterID: 'bluepill' }))?.success);
      const attach = await s.request('attach', { mode: 'remote', host: '127.0.0.1', port }, 8000);
      assert.ok(attach, 'attach is answered');
      assert.equal(attach.success, false);
      assert.match(String(attach.message), /accepted the connection but did not answer "initialize" within 3 s\. Check that a dlv DAP server listens there/);
    } finally {
      await s.close();
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('requests still pending when the session ends get an error response', async () => {
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
    const script = steps(s);
    for (const step of script.slice(0, 4)) await step(); // stopped at the breakpoint
    // A burst sent right before dlv dies: some of it is still pending when the end comes.
    const burst = [101, 102, 103, 104, 105];
    for (const seq of burst) s.send({ seq, type: 'request', command: 'stackTrace', arguments: { threadId: 1, levels: 50 } });
    s.send({ seq: 106, type: 'request', command: 'disconnect', arguments: { terminateDebuggee: true } });
    process.kill(s.proxy.dlvPid!, 'SIGKILL');
    await s.until(() => [...burst, 106].every((seq) => s.responsesTo(seq).length > 0), 5000);
    for (const seq of [...burst, 106]) assert.equal(s.responsesTo(seq).length, 1, `request ${seq} answered exactly once`);
    await s.close();
  });

  it('dlv stuck after a step over the program\'s exit: disconnect is still answered (after 10 s; 2 s here), and dlv and the program are ended', async () => {
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks(), disconnectTimeoutMs: 2000 });
    await s.request('initialize', { adapterID: 'bluepill' });
    await s.request('launch', { mode: 'exec', program });
    await s.request('setFunctionBreakpoints', { breakpoints: [{ name: 'runtime.exit' }] });
    await s.request('configurationDone');
    const first = (await s.event('stopped', 0)) as DebugProtocol.StoppedEvent;
    const dlv = s.proxy.dlvPid!;
    const debuggee = childrenRunning(dlv, program);
    assert.equal(debuggee.length, 1, 'the program, launched by dlv');
    // runtime.exit is a few instructions ending in the exit_group system call: dlv never comes back from stepping over it.
    let stuck = false;
    for (let i = 1; i < 20 && !stuck; i++) {
      s.send({ seq: 1000 + i, type: 'request', command: 'stepIn', arguments: { threadId: first.body.threadId, granularity: 'instruction' } });
      stuck = (await s.event('stopped', i, 3000)) === undefined && s.events('terminated').length === 0;
    }
    assert.ok(stuck, 'dlv stopped answering a step over exit_group');
    const answer = await s.request('disconnect', { terminateDebuggee: true }, 15_000);
    assert.equal(answer?.success, true, 'disconnect answered by the proxy');
    assert.match(s.outputText(), /dlv did not answer "disconnect" within 2 s: it is stuck/);
    assert.ok(await s.until(() => s.events('terminated').length > 0, 8000), 'terminated follows, once dlv is ended');
    await s.until(() => !isAlive(dlv) && debuggee.every((p) => !isAlive(p)), 8000);
    assert.equal(isAlive(dlv), false, 'dlv ended');
    for (const p of debuggee) assert.equal(isAlive(p), false, 'the program dlv launched ended');
  });

  it("the proxy's own requests failing while the program runs (dlv error) leave the user's requests untouched; the log notes it", async () => {
    // A hook that asks dlv for a stack whenever the program has just been resumed:
    // dlv refuses (the program is running), as it does for the bluepill hooks' reads.
    let ownFailures = 0;
    const probe = (ctx: ProxyContext): ProxyHook => ({
      name: 'probe',
      stage: 'observe',
      async rewriteEvent(e) {
        if (e.event !== 'continued') return;
        const r = await ctx.requestDlv('stackTrace', { threadId: 1, levels: 5 });
        if (!r.success) ownFailures++;
      },
      async rewriteResponse(_response, request) {
        if (request.command !== 'continue') return;
        for (const [command, args] of [['stackTrace', { threadId: 1, levels: 5 }], ['evaluate', { expression: 'x' }]] as const) {
          const own = await ctx.requestDlv(command, args);
          if (!own.success) ownFailures++;
        }
      },
    });
    const s = open({ defaults: { dlvPath }, hooks: (ctx) => [...defaultHooks()(ctx), probe(ctx)] });
    const script = steps(s);
    for (const step of script.slice(0, 4)) await step();
    await s.request('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [] });
    const resumed = await s.request('continue', { threadId: 1 });
    assert.equal(resumed?.success, true, "the user's continue succeeds");
    await new Promise((r) => setTimeout(r, 300));
    const paused = await s.request('pause', { threadId: 1 });
    assert.equal(paused?.success, true, "the user's pause succeeds");
    assert.ok(await s.event('stopped', 1), 'and the program stops');
    const stack = (await s.request('stackTrace', { threadId: 1, levels: 5 })) as DebugProtocol.StackTraceResponse;
    assert.ok(stack.success && stack.body.stackFrames.length > 0, 'the user\'s requests still work');
    assert.ok(ownFailures > 0, 'dlv refused at least one of the proxy\'s own requests while running');
    assert.ok(s.log.some((line) => /the proxy's own "(stackTrace|threads)" failed .*annotation is skipped/.test(line)), s.log.join('\n'));
    assert.ok(s.received.filter((m) => m.type === 'response').every((m) => (m as DebugProtocol.Response).success), 'no user request failed');
    await s.request('disconnect', { terminateDebuggee: true });
    await s.close();
  });
});
