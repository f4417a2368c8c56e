// The proxy's cost on a live session: instruction stepping (the round-trip tracker
// analysing every stop) and per-request latency straight to dlv against through
// the proxy (with every annotation on), and the proxy's memory over 10,000
// requests. Same fixture, same dlv, same run; rounds interleaved, paired ratios.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { stats } from './lib.mjs';

const require = createRequire(import.meta.url);

const ROUNDS = 40;
const STEPS_PER_ROUND = 25;
const LATENCY_SAMPLES = 200;
/**
 * Sessions per path. Each session has its own dlv and program, and two identical ones step at
 * speeds up to 15% apart for the whole run (where the scheduler put them): with one session
 * per path that spread is read as the path's cost. A path's round is the sum over its sessions.
 */
const INSTANCES = 3;

/** Median of `samples`, and a 90% interval for it (bootstrap, seeded: the same samples give the same interval). */
export function withInterval(samples) {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const median = (xs) => stats(xs).median;
  const medians = [];
  for (let b = 0; b < 1000; b++) medians.push(median(Array.from(samples, () => samples[Math.floor(rand() * samples.length)])));
  const sorted = medians.sort((a, b) => a - b);
  return { median: median(samples), low: sorted[50], high: sorted[949], n: samples.length };
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
  async function inlineSession(tracker = { on: true }) {
    const { DlvProxy } = require(path.join(root, 'out/adapter/session/proxy.js'));
    const { defaultHooks } = require(path.join(root, 'out/adapter/hooks/index.js'));
    const { ensureDlv } = require(path.join(root, 'out/test/support/paths.js'));
    // When this step's stepIn left for dlv and when dlv's stopped came back: dlv's own part of the step.
    const atDlv = { sent: 0, stopped: 0 };
    const observe = (direction, m) => {
      if (direction === 'proxy→dlv' && m.type === 'request' && m.command === 'stepIn') atDlv.sent = performance.now();
      if (direction === 'dlv→proxy' && m.type === 'event' && m.event === 'stopped') atDlv.stopped = performance.now();
    };
    const proxy = new DlvProxy({ defaults: { dlvPath: ensureDlv() }, hooks: switchable(defaultHooks(), tracker), observe });
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
    const stopped = next((m) => m.type === 'event' && m.event === 'stopped');
    await ask('configurationDone');
    const threadId = (await stopped).body.threadId;
    await ask('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [] });
    const client = {
      request: async (command, args) => ask(command, args),
      /**
       * Per step, dlv's part of it (ms): from the stepIn the proxy sends to the stopped it reads.
       * The rest of a round's time is the proxy's, wherever it falls (the analysis of a stop may
       * run after the client has its event, before the next step goes to dlv).
       */
      dlvParts: [],
      step: async () => {
        const s = next((m) => m.type === 'event' && m.event === 'stopped');
        await ask('stepIn', { threadId, granularity: 'instruction' });
        await s;
        client.dlvParts.push(atDlv.stopped - atDlv.sent);
      },
    };
    return {
      client,
      threadId,
      stop: async () => {
        await ask('disconnect', { terminateDebuggee: true });
        await proxy.shutdown();
      },
    };
  }

  /**
   * The session's hooks, with the round-trip tracker's switched by `tracker.on`: for the
   * row that compares one session with and without the tracker (off, it sees nothing;
   * its first stop after a switch is then read from dlv, as after any unknown resume).
   */
  function switchable(factory, tracker) {
    return (ctx) =>
      factory(ctx).map((hook) =>
        hook.name !== 'bluepillTracker'
          ? hook
          : { name: hook.name, stage: hook.stage, answer: (r) => (tracker.on ? hook.answer(r) : undefined), rewriteEvent: (e) => (tracker.on ? hook.rewriteEvent(e) : undefined) },
      );
  }

  /** A DebugClient as the uniform shape the rounds use. */
  function uniform(client, threadId) {
    return {
      threadId,
      request: (command, args) => client.customRequest(command, args),
      step: async () => {
        const s = client.waitForEvent('stopped');
        await client.stepInRequest({ threadId, granularity: 'instruction' });
        await s;
      },
    };
  }

  async function timeSteps(client, n) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await client.step();
    return Number(process.hrtime.bigint() - t) / 1e6;
  }

  // Sessions stopped at the same place, each with its own dlv: straight to dlv, through a byte
  // relay (the cost of any extra process), through the proxy on stdio, and the proxy inline (as
  // VS Code runs it), INSTANCES of each; and a second group straight to dlv as a control. Many
  // short rounds, in an order that rotates, each path compared with dlv alone in the same round:
  // noise on the machine falls on all alike, and the spread between dlv instances is averaged.
  const cleanups = [];
  const paths = { direct: [], direct2: [], relay: [], proxy: [], inline: [] };
  const first = {};
  for (let i = 0; i < INSTANCES; i++) {
    for (const name of ['direct', 'direct2']) {
      const d = await directClient();
      cleanups.push(() => d.stop());
      paths[name].push(uniform(d.client, await stopped(d.client)));
      if (i === 0) first[name] = { client: d.client, threadId: paths[name][0].threadId };
    }
    const relayServer = await dlvDapServer();
    const relay = new RecordingClient(process.execPath, path.join(root, 'bench', 'relay.mjs'), { env: { ...process.env, RELAY_PORT: String(relayServer.port) } });
    await relay.start();
    cleanups.push(async () => {
      // dlv ends the debuggee and exits on disconnect, sometimes before it answers.
      await Promise.race([relay.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      relay.adapterProcess?.kill();
      await relayServer.stop();
    });
    paths.relay.push(uniform(relay, await stopped(relay)));
    const dc = await proxyClient();
    cleanups.push(() => dc.stop());
    paths.proxy.push(uniform(dc, await stopped(dc)));
    const inline = await inlineSession();
    cleanups.push(() => inline.stop());
    paths.inline.push(inline.client);
    if (i === 0) {
      first.relay = { client: relay, threadId: paths.relay[0].threadId };
      first.proxy = { client: dc, threadId: paths.proxy[0].threadId };
      first.inline = inline;
    }
  }
  // One more inline session whose tracker is switched off and on between rounds: the tracker's
  // cost on the same dlv, free of the spread between instances.
  const tracker = { on: true };
  const toggled = await inlineSession(tracker);
  cleanups.push(() => toggled.stop());

  const roundOf = async (sessions) => {
    let total = 0;
    for (const session of sessions) total += await timeSteps(session, STEPS_PER_ROUND);
    return total;
  };
  for (const sessions of Object.values(paths)) await roundOf(sessions); // warm-up
  await timeSteps(toggled.client, STEPS_PER_ROUND);
  for (const inline of paths.inline) inline.dlvParts.length = 0;
  const names = Object.keys(paths);
  const stepping = Object.fromEntries(names.map((n) => [n, []]));
  const trackerRounds = { on: [], off: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) stepping[name].push(await roundOf(paths[name]));
    for (const state of round % 2 ? ['on', 'off'] : ['off', 'on']) {
      tracker.on = state === 'on';
      await toggled.client.step(); // the first stop after a switch is not measured
      trackerRounds[state].push(await timeSteps(toggled.client, STEPS_PER_ROUND));
    }
  }
  tracker.on = true;
  // The tracker did its full work at every stop, however fast the steps came: one state per stop.
  const dc = first.proxy.client;
  const stopStates = new Set(dc.events('bluepill/state').filter((e) => e.body.stop).map((e) => e.body.stop.index)).size;
  const statesPerStep = stopStates / dc.events('stopped').length;
  // dlv's part of each round of the inline sessions (their steps, in order, STEPS_PER_ROUND a round each).
  const dlvOfRound = (r) => paths.inline.reduce((total, c) => total + c.dlvParts.slice(r * STEPS_PER_ROUND, (r + 1) * STEPS_PER_ROUND).reduce((a, b) => a + b, 0), 0);
  const inlineDlv = stepping.inline.map((_, r) => dlvOfRound(r));
  const direct = { client: first.direct.client };
  const relay = first.relay.client;
  const inline = first.inline;
  const threads = { direct: first.direct.threadId, proxy: first.proxy.threadId, relay: first.relay.threadId };
  const sessions = { direct: paths.direct[0], proxy: paths.proxy[0], relay: paths.relay[0], inline: inline.client };

  // Per request: each sample times dlv alone and the proxy back to back (alternating which
  // goes first); the figure is the median of the paired differences.
  const frames = {
    direct: (await direct.client.stackTraceRequest({ threadId: threads.direct, levels: 50 })).body.stackFrames,
    proxy: (await dc.stackTraceRequest({ threadId: threads.proxy, levels: 50 })).body.stackFrames,
    inline: (await inline.client.request('stackTrace', { threadId: inline.threadId, levels: 50 })).body.stackFrames,
    relay: (await relay.stackTraceRequest({ threadId: threads.relay, levels: 50 })).body.stackFrames,
  };
  const threadOf = { direct: threads.direct, proxy: threads.proxy, inline: inline.threadId, relay: threads.relay };
  const requests = {
    threads: () => [['threads']],
    stackTrace50: (who) => [['stackTrace', { threadId: threadOf[who], levels: 50 }]],
    scopes: (who) => [['scopes', { frameId: frames[who][0].id }]],
    variablesRegisters: (who) => [['variables', { variablesReference: registersRef[who] }]],
    disassemble400: (who) => [['disassemble', { memoryReference: frames[who][0].instructionPointerReference, instructionOffset: -200, instructionCount: 400 }]],
  };
  const registersRef = {};
  const who4 = ['direct', 'proxy', 'inline', 'relay'];
  for (const who of who4) {
    const sc = await sessions[who].request('scopes', { frameId: frames[who][0].id });
    registersRef[who] = sc.body.scopes.find((x) => /registers/i.test(x.name)).variablesReference;
  }
  const timeRequest = async (who, make) => {
    const [[command, args]] = make(who);
    const t = process.hrtime.bigint();
    await sessions[who].request(command, args);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const latency = {};
  for (const [name, make] of Object.entries(requests)) {
    for (let i = 0; i < 20; i++) for (const who of who4) await timeRequest(who, make);
    const samples = { direct: [], proxy: [], inline: [], relay: [] };
    const added = { proxy: [], inline: [], relay: [] };
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const order = i % 2 ? ['direct', 'inline', 'relay', 'proxy'] : ['proxy', 'relay', 'inline', 'direct'];
      const t = {};
      for (const who of order) t[who] = await timeRequest(who, make);
      for (const who of who4) samples[who].push(t[who]);
      for (const who of ['proxy', 'inline', 'relay']) added[who].push(t[who] - t.direct);
    }
    // The relay parses nothing: what any process between client and dlv adds on this machine.
    latency[name] = { direct: stats(samples.direct), addedInline: withInterval(added.inline), addedStdio: withInterval(added.proxy), addedRelay: withInterval(added.relay) };
  }
  // Memory of a long session: 10,000 more requests through the same proxy.
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${dc.adapterProcess.pid}/status`, 'utf8'))[1]) / 1024;
  const before = rss();
  for (let i = 0; i < 10_000; i++) {
    if (i % 2) await dc.threadsRequest();
    else await dc.stackTraceRequest({ threadId: threads.proxy, levels: 20 });
  }
  const after = rss();
  for (const cleanup of cleanups) await cleanup();

  const inlineSteps = STEPS_PER_ROUND * INSTANCES;
  const ratios = (name) => withInterval(stepping[name].map((t, i) => t / stepping.direct[i]));
  return {
    rounds: ROUNDS,
    stepsPerRound: STEPS_PER_ROUND,
    instances: INSTANCES,
    stateEventsPerStep: statesPerStep,
    stepping: {
      direct: stats(stepping.direct),
      relay: stats(stepping.relay),
      proxy: stats(stepping.proxy),
      inline: stats(stepping.inline),
      ratio: ratios('proxy'),
      inlineRatio: ratios('inline'),
      relayRatio: ratios('relay'),
      proxyOverRelay: withInterval(stepping.proxy.map((t, i) => t / stepping.relay[i])),
      direct2: stats(stepping.direct2),
      controlRatio: ratios('direct2'),
      // Inline, whatever dlv instance it got: the step's time over dlv's part of it, per round, and
      // the proxy's own time per step (the step's time less dlv's part).
      inlineOverItsDlv: withInterval(stepping.inline.map((t, r) => t / inlineDlv[r])),
      inlineOwnPerStep: withInterval(stepping.inline.map((t, r) => (t - inlineDlv[r]) / inlineSteps)),
      // One inline session, its tracker on against off in the rounds next to each other.
      trackerOn: stats(trackerRounds.on),
      trackerOff: stats(trackerRounds.off),
      trackerRatio: withInterval(trackerRounds.on.map((t, i) => t / trackerRounds.off[i])),
    },
    latency,
    stackFrames: frames.direct.length,
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
