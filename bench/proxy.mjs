// The proxy's cost on a live session: instruction stepping and per-request latency
// straight to dlv against through the proxy (with every annotation on), and the
// proxy's memory over 10,000 requests. Same fixture, same dlv, same run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { stats } from './lib.mjs';

const require = createRequire(import.meta.url);

async function timeMs(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function benchProxy(root) {
  const { directClient, dlvDapServer, proxyClient, openSession, RecordingClient } = require(path.join(root, 'out/test/support/client.js'));
  const { buildFixture, fixtureSource, lineOf } = require(path.join(root, 'out/test/support/fixtures.js'));
  const program = buildFixture('hello');
  const line = lineOf('hello', 'breakpoint target');

  /** A session stopped at square(), 60 frames deep. */
  async function stopped(client) {
    await openSession(client, 'launch', { mode: 'exec', program, args: ['-deep', '60', '-spin'], showRegisters: true });
    await client.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line }] });
    const s = client.waitForEvent('stopped');
    await client.configurationDoneRequest();
    const threadId = (await s).body.threadId;
    await client.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [] });
    return threadId;
  }

  /**
   * The proxy inline, exactly as VS Code drives it (DebugAdapterInlineImplementation):
   * messages handed over as objects through handleMessage/onDidSendMessage, no framing on
   * the client side; the only socket is the one to dlv, as with dlv alone.
   */
  async function inlineSession() {
    const { DlvProxy } = require(path.join(root, 'out/adapter/dap/proxy.js'));
    const { defaultHooks } = require(path.join(root, 'out/adapter/hooks/index.js'));
    const { ensureDlv } = require(path.join(root, 'out/test/support/paths.js'));
    const proxy = new DlvProxy({ defaults: { dlvPath: ensureDlv() }, hooks: defaultHooks() });
    const waiters = new Set();
    proxy.client.onDidSendMessage((m) => {
      for (const w of [...waiters]) if (w.wanted(m)) (waiters.delete(w), w.resolve(m));
    });
    const next = (wanted) => new Promise((resolve) => waiters.add({ wanted, resolve }));
    let seq = 0;
    const ask = (command, args) => {
      const mine = ++seq;
      const answered = next((m) => m.type === 'response' && m.request_seq === mine);
      proxy.client.handleMessage({ seq: mine, type: 'request', command, arguments: args });
      return answered;
    };
    await ask('initialize', { adapterID: 'bluepill' });
    await ask('launch', { mode: 'exec', program, args: ['-deep', '60', '-spin'], showRegisters: true });
    await ask('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [{ line }] });
    let stopped = next((m) => m.type === 'event' && m.event === 'stopped');
    await ask('configurationDone');
    const threadId = (await stopped).body.threadId;
    await ask('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [] });
    const run = async () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 200; i++) {
        stopped = next((m) => m.type === 'event' && m.event === 'stopped');
        await ask('stepIn', { threadId, granularity: 'instruction' });
        await stopped;
      }
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    await run(); // warm-up
    return {
      steps: run,
      stop: async () => {
        await ask('disconnect', { terminateDebuggee: true });
        await proxy.shutdown();
      },
    };
  }

  /** 200 instruction steps, timed as one loop. */
  async function steps(client, threadId) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) {
      const s = client.waitForEvent('stopped');
      await client.stepInRequest({ threadId, granularity: 'instruction' });
      await s;
    }
    return Number(process.hrtime.bigint() - t) / 1e6;
  }

  async function latencies(client, threadId) {
    const frames = (await client.stackTraceRequest({ threadId, levels: 50 })).body.stackFrames;
    const requests = {
      threads: () => client.threadsRequest(),
      stackTrace50: () => client.stackTraceRequest({ threadId, levels: 50 }),
      scopesAndRegisters: async () => {
        const sc = await client.scopesRequest({ frameId: frames[0].id });
        await client.variablesRequest({ variablesReference: sc.body.scopes.find((s) => /registers/i.test(s.name)).variablesReference });
      },
      disassemble400: () => client.customRequest('disassemble', { memoryReference: frames[0].instructionPointerReference, instructionOffset: -200, instructionCount: 400 }),
    };
    const latency = {};
    for (const [name, fn] of Object.entries(requests)) {
      for (let i = 0; i < 20; i++) await fn();
      const samples = [];
      for (let i = 0; i < 200; i++) samples.push(await timeMs(fn));
      latency[name] = stats(samples);
    }
    return { latency, frames: frames.length };
  }

  // Three sessions stopped at the same place, each with its own dlv: straight to dlv,
  // through a byte relay (the cost of any extra process), and through the proxy.
  // Rounds alternate between them so that load on the machine falls on all three alike.
  const direct = await directClient();
  const relayServer = await dlvDapServer();
  const relay = new RecordingClient(process.execPath, path.join(root, 'bench', 'relay.mjs'), { env: { ...process.env, RELAY_PORT: String(relayServer.port) } });
  await relay.start();
  const dc = await proxyClient();
  const sessions = { direct: direct.client, relay, proxy: dc };
  const threads = {};
  for (const [name, client] of Object.entries(sessions)) {
    threads[name] = await stopped(client);
    await steps(client, threads[name]); // warm-up
  }
  // Inline, as VS Code runs it: the proxy in the client's own process, so the only socket
  // is the one to dlv, as with dlv alone. This is the cost a VS Code user sees.
  const inline = await inlineSession();
  const stepping = { direct: [], relay: [], proxy: [], inline: [] };
  for (let round = 0; round < 7; round++) {
    for (const name of Object.keys(sessions)) stepping[name].push(await steps(sessions[name], threads[name]));
    stepping.inline.push(await inline.steps());
  }
  await inline.stop();
  const straight = await latencies(direct.client, threads.direct);
  const proxied = await latencies(dc, threads.proxy);
  await direct.stop();
  // Memory of a long session: 10,000 more requests through the same proxy.
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${dc.adapterProcess.pid}/status`, 'utf8'))[1]) / 1024;
  const before = rss();
  for (let i = 0; i < 10_000; i++) {
    if (i % 2) await dc.threadsRequest();
    else await dc.stackTraceRequest({ threadId: threads.proxy, levels: 20 });
  }
  const after = rss();
  await dc.stop();
  // dlv ends the debuggee and exits on disconnect, sometimes before it answers.
  await Promise.race([relay.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
  relay.adapterProcess?.kill();
  await relayServer.stop();

  const added = Object.fromEntries(Object.keys(straight.latency).map((k) => [k, { median: proxied.latency[k].median - straight.latency[k].median, p99: proxied.latency[k].p99 - straight.latency[k].p99 }]));
  return {
    steps: 200,
    stepping: {
      direct: stats(stepping.direct),
      relay: stats(stepping.relay),
      proxy: stats(stepping.proxy),
      inline: stats(stepping.inline),
      ratio: stats(stepping.proxy).median / stats(stepping.direct).median,
      inlineRatio: stats(stepping.inline).median / stats(stepping.direct).median,
      relayRatio: stats(stepping.relay).median / stats(stepping.direct).median,
      proxyOverRelay: stats(stepping.proxy).median / stats(stepping.relay).median,
    },
    latency: { direct: straight.latency, proxy: proxied.latency, added },
    stackFrames: straight.frames,
    longSession: { requests: 10_000, rssBeforeMb: before, rssAfterMb: after, growthMb: after - before },
  };
}

/** The annotation part alone: the sysregNames hook over 400 real arm64 instructions. */
export function benchAnnotationHook(root) {
  const { sysregNames } = require(path.join(root, 'out/adapter/hooks/sysregNames.js'));
  const { execFileSync } = require('node:child_process');
  const { buildFixture } = require(path.join(root, 'out/test/support/fixtures.js'));
  const listing = execFileSync('go', ['tool', 'objdump', '-s', 'minibluepill/kvm', buildFixture('minibluepill', { goarch: 'arm64' })], { encoding: 'utf8' });
  const lines = listing.split('\n').filter((l) => /\t0x[0-9a-f]+\t/.test(l)).map((l) => l.trim().split('\t').filter(Boolean));
  const instructions = Array.from({ length: 400 }, (_, i) => {
    const [, address, bytes, text] = lines[i % lines.length];
    return { address, instructionBytes: bytes, instruction: text.trim() };
  });
  const samples = [];
  for (let r = 0; r < 520; r++) {
    const response = { command: 'disassemble', success: true, body: { instructions: instructions.map((x) => ({ ...x })) } };
    const t = process.hrtime.bigint();
    sysregNames.rewriteResponse(response, { command: 'disassemble' }, {});
    if (r >= 20) samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { instructions: 400, moves: instructions.filter((x) => /^M[RS][RS] /.test(x.instruction)).length, ...stats(samples) };
}
