// Fuzzing the proxy's DAP handling: 100,000 cases in all (20,000 frames + 78,000 client-side + 2,000 dlv-side), from mutations of a real
// transcript (recorded here from the pinned dlv) and from random bytes and JSON.
// Nothing may crash or hang; every request the proxy can read gets exactly one
// response; a broken frame ends the session with a message that says so.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import fc from 'fast-check';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { defaultHooks } from '../../adapter/hooks';
import { frame, FrameError, FrameReader } from '../../adapter/dap/framing';
import { buildFixture } from '../support/fixtures';
import { dlvDapServer, RecordingClient } from '../support/client';
import { script } from '../support/sessionScript';
import { tapBetween } from '../support/tap';
import { InProcessSession } from '../support/inProcess';
import { mutate, mutationArb } from '../support/mutate';

const SENTINEL = 424242;
/** FUZZ_SCALE=0.01 runs 1% of the cases, for a quick look while changing the proxy. */
const runs = (n: number) => Math.max(10, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));
const NO_DLV = { dlvPath: '/nonexistent/dlv' };
/** Commands that would start or reach a debugger: covered by the launch-configuration tests. */
const STARTS_SESSION = new Set(['launch', 'attach']);

const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);

/** The bodies of frames a stream holds, or the FrameError that stopped it. */
function readAll(chunks: Buffer[]): { bodies: string[]; error?: FrameError } {
  const reader = new FrameReader();
  const bodies: string[] = [];
  try {
    for (const c of chunks) reader.push(c, (b) => bodies.push(b));
  } catch (e) {
    if (e instanceof FrameError) return { bodies, error: e };
    throw e;
  }
  return { bodies };
}

describe('fuzzing DAP handling', () => {
  let clientRequests: DebugProtocol.Request[] = [];
  let dlvMessages: DebugProtocol.ProtocolMessage[] = [];

  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    // A real transcript: the scripted session straight to the pinned dlv, tapped.
    const server = await dlvDapServer();
    const tap = await tapBetween(server.port);
    const client = new RecordingClient('unused', 'unused');
    await client.start(tap.port);
    try {
      await script(client, buildFixture('hello'));
    } finally {
      (client as unknown as { _socket?: net.Socket })._socket?.destroy();
      tap.close();
      await server.stop();
    }
    clientRequests = tap.toDlv.filter((r) => !STARTS_SESSION.has(r.command));
    dlvMessages = tap.fromDlv;
    assert.ok(clientRequests.length > 20 && dlvMessages.length > 40, 'a real transcript was recorded');
  });

  after(() => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
  });

  it('frames: any split of valid frames reads back the same bodies; random bytes read or fail cleanly (20,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (values, cuts) => {
        const wire = Buffer.from(values.map((v) => frame(JSON.stringify(v))).join(''));
        const at = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((start, i) => wire.subarray(start, at[i] ?? wire.length));
        const { bodies, error } = readAll(chunks);
        assert.equal(error, undefined);
        assert.deepEqual(bodies.map((b) => JSON.parse(b)), values.map((v) => JSON.parse(JSON.stringify(v))));
      }),
      { numRuns: runs(10_000) },
    );
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 4 }), (arrays) => {
        readAll(arrays.map((a) => Buffer.from(a))); // throws only FrameError, which readAll catches
      }),
      { numRuns: runs(10_000) },
    );
  });

  it('client side: mutated real requests, random JSON and random bytes (78,000 cases)', async () => {
    const check = async (bytes: string | Buffer, intactFraming: boolean) => {
      const s = new InProcessSession({ defaults: NO_DLV, hooks: defaultHooks() });
      s.send({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'bluepill' } });
      s.sendRaw(bytes);
      s.send({ seq: SENTINEL, type: 'request', command: 'threads' });
      const answered = () => s.responsesTo(SENTINEL).length > 0 || s.events('terminated').length > 0;
      const settled = await s.until(answered, intactFraming ? 2000 : 50);
      if (intactFraming) assert.ok(settled, `the proxy answered after ${JSON.stringify(String(bytes).slice(0, 200))}`);
      // A disconnect ends the session with terminated (issue 19.15): no reason needed then.
      const disconnected = s.received.some((m) => m.type === 'response' && (m as DebugProtocol.Response).command === 'disconnect' && (m as DebugProtocol.Response).success);
      if (s.events('terminated').length > 0 && !disconnected) {
        assert.match(s.events('output').map((e) => String(e.body?.output)).join(''), /broken DAP frame|session/, 'a terminated session says why');
      } else if (settled) {
        assert.equal(s.responsesTo(SENTINEL).filter((r) => r.command === 'threads').length, 1, 'the request after it is answered exactly once');
        assert.equal(s.responsesTo(1).filter((r) => r.command === 'initialize').length, 1, 'initialize is answered exactly once');
      }
      await s.close();
    };
    const requestArb = fc.integer({ min: 0, max: clientRequests.length - 1 }).map((i) => clientRequests[i]);
    await fc.assert(
      fc.asyncProperty(requestArb, mutationArb, async (request, m) => {
        const { bytes, intactFraming } = mutate({ ...request, seq: 2 }, m);
        await check(bytes, intactFraming);
      }),
      { numRuns: runs(56_000) },
    );
    await fc.assert(
      fc.asyncProperty(fc.record({ seq: fc.nat(), type: fc.constantFrom('request', 'response', 'event', 'x'), command: fc.string(), arguments: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }), async (message) => {
        if (STARTS_SESSION.has(String(message.command))) return;
        await check(frame(JSON.stringify(message)), true);
      }),
      { numRuns: runs(17_000) },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (noise) => {
        await check(Buffer.from(noise), false);
      }),
      { numRuns: runs(5_000) },
    );
  });

  it('dlv side: mutated real responses and events from a replaying dlv (2,000 cases)', async () => {
    // Answers each request with a mutated copy of what the real dlv answered to that
    // command, and mixes in mutated copies of its events.
    const byCommand = new Map<string, DebugProtocol.Response[]>();
    for (const m of dlvMessages) if (m.type === 'response') byCommand.set((m as DebugProtocol.Response).command, [...(byCommand.get((m as DebugProtocol.Response).command) ?? []), m as DebugProtocol.Response]);
    // dlv's own `terminated` and `exited` would end sessions for reasons not under test.
    const events = dlvMessages.filter((m) => m.type === 'event' && !['terminated', 'exited'].includes((m as DebugProtocol.Event).event));
    const cases = fc.sample(fc.tuple(fc.nat(), mutationArb, fc.nat(), mutationArb), { numRuns: runs(2_000), seed: 4242 });
    let next = 0;
    let sessions = 0;
    let timeouts = 0;

    const serverSockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      serverSockets.add(socket);
      socket.on('close', () => serverSockets.delete(socket));
      const reader = new FrameReader();
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) =>
        reader.push(chunk, (json) => {
          const request = JSON.parse(json) as DebugProtocol.Request;
          const recorded = byCommand.get(request.command)?.[0] ?? { seq: 0, type: 'response', command: request.command, success: true };
          const reply = { ...recorded, request_seq: request.seq };
          if (request.command === 'disconnect') {
            socket.end(frame(JSON.stringify(reply))); // as dlv does: answer, then hang up
            return;
          }
          if (request.command === 'initialize' || request.command === 'attach' || next >= cases.length) {
            socket.write(frame(JSON.stringify(reply)));
            if (request.command === 'attach') socket.write(frame(JSON.stringify({ seq: 0, type: 'event', event: 'initialized' })));
            return;
          }
          const [pick, m1, eventPick, m2] = cases[next++];
          const candidates = byCommand.get(request.command) ?? [reply];
          const response = mutate({ ...candidates[pick % candidates.length], request_seq: request.seq }, m1);
          const e = mutate(events[eventPick % events.length], m2);
          socket.write(e.bytes + response.bytes);
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      while (next < cases.length) {
        sessions++;
        // Annotations give up on dlv after 10 ms here (5 s in use), so that a mutated answer
        // to one of the proxy's own requests costs the fuzzer little time.
        const s = new InProcessSession({ initialTarget: { kind: 'remote', host: '127.0.0.1', port }, hooks: defaultHooks(), ownRequestTimeoutMs: 10 });
        let seq = 1;
        const ask = async (command: string, args?: unknown): Promise<boolean> => {
          const mine = seq++;
          s.send({ seq: mine, type: 'request', command, arguments: args });
          const done = () => s.responsesTo(mine).length > 0 || s.events('terminated').length > 0;
          if (!(await s.until(done, 60))) {
            timeouts++;
            return false; // a wrong Content-Length or request_seq: the answer never comes
          }
          if (s.events('terminated').length > 0) return false;
          assert.equal(s.responsesTo(mine).length, 1, `"${command}" answered exactly once`);
          return true;
        };
        await ask('initialize', { adapterID: 'bluepill' });
        await ask('attach', { mode: 'remote', host: '127.0.0.1', port });
        const replayed = clientRequests.filter((r) => r.command !== 'initialize'); // sent once, above
        for (let i = 0; next < cases.length; i++) {
          const r = replayed[i % replayed.length];
          if (!(await ask(r.command, r.arguments))) break;
        }
        if (s.events('terminated').length > 0) {
          assert.match(s.events('output').map((e) => String(e.body?.output)).join(''), /dlv sent a broken DAP frame|closed|dlv/, 'the session says why it ended');
        }
        await s.close();
      }
      // Every session's proxy hung up its end: none of its sockets to the fake dlv is left open.
      const proxySockets = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof net.Socket && h.remotePort === port);
      assert.equal(proxySockets.length, 0, 'the proxy closed every connection it opened');
    } finally {
      for (const socket of serverSockets) socket.destroy();
      server.close();
    }
    console.log(`dlv side: ${cases.length} cases in ${sessions} sessions, ${timeouts} waited out`);
    assert.ok(sessions > 1, `${sessions} sessions`);
  });
});
