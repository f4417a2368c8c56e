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
  const { directClient, proxyClient, openSession } = require(path.join(root, 'out/test/support/client.js'));
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

  async function measure(client) {
    const threadId = await stopped(client);
    const step = async () => {
      const s = client.waitForEvent('stopped');
      await client.stepInRequest({ threadId, granularity: 'instruction' });
      await s;
    };
    const loop = async () => {
      for (let i = 0; i < 200; i++) await step();
    };
    await loop(); // warm-up
    const stepping = [];
    for (let r = 0; r < 5; r++) stepping.push(await timeMs(loop));

    const frames = (await client.stackTraceRequest({ threadId, levels: 50 })).body.stackFrames;
    const scopes = (await client.scopesRequest({ frameId: frames[0].id })).body.scopes;
    const registers = scopes.find((s) => /registers/i.test(s.name));
    const requests = {
      threads: () => client.threadsRequest(),
      stackTrace50: () => client.stackTraceRequest({ threadId, levels: 50 }),
      scopesAndRegisters: async () => {
        const sc = await client.scopesRequest({ frameId: frames[0].id });
        await client.variablesRequest({ variablesReference: sc.body.scopes.find((s) => /registers/i.test(s.name))?.variablesReference ?? registers.variablesReference });
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
    return { stepping: stats(stepping), latency, frames: frames.length };
  }

  const direct = await directClient();
  const straight = await measure(direct.client);
  await direct.stop();

  const dc = await proxyClient();
  const proxied = await measure(dc);
  // Memory of a long session: 10,000 more requests through the same proxy.
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${dc.adapterProcess.pid}/status`, 'utf8'))[1]) / 1024;
  const before = rss();
  const threadId = (await dc.threadsRequest()).body.threads[0].id;
  for (let i = 0; i < 10_000; i++) {
    if (i % 2) await dc.threadsRequest();
    else await dc.stackTraceRequest({ threadId, levels: 20 });
  }
  const after = rss();
  await dc.stop();

  const added = Object.fromEntries(Object.keys(straight.latency).map((k) => [k, { median: proxied.latency[k].median - straight.latency[k].median, p99: proxied.latency[k].p99 - straight.latency[k].p99 }]));
  return {
    steps: 200,
    stepping: { direct: straight.stepping, proxy: proxied.stepping, ratio: proxied.stepping.median / straight.stepping.median },
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
