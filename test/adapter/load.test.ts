// Load: 10,000 requests pipelined through the proxy to the pinned dlv without waiting
// for any answer. Every response comes back exactly once, matched to its request, in
// order; dlv's events keep their place among the responses (checked against a tap).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { defaultHooks } from '../../adapter/hooks';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { dlvDapServer } from '../support/client';
import { dlvMessagesForClient, tapBetween } from '../support/tap';
import { InProcessSession } from '../support/inProcess';

const COUNT = 10_000;

describe('load', () => {
  it(`${COUNT.toLocaleString('en')} pipelined requests: each answered once, in order, with events in dlv's order`, async () => {
    const program = buildFixture('hello');
    const server = await dlvDapServer();
    const tap = await tapBetween(server.port);
    const s = new InProcessSession({ initialTarget: { kind: 'remote', host: '127.0.0.1', port: tap.port }, hooks: defaultHooks() });
    try {
      await s.request('initialize', { adapterID: 'bluepill' });
      assert.ok((await s.request('launch', { mode: 'exec', program, args: ['-forever'], showRegisters: true }))?.success);
      await s.request('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
      await s.request('configurationDone');
      const stop = (await s.event('stopped', 0)) as DebugProtocol.StoppedEvent;
      const threadId = stop.body.threadId!;
      const frameId = ((await s.request('stackTrace', { threadId, levels: 1 })) as DebugProtocol.StackTraceResponse).body.stackFrames[0].id;

      // The burst: reads of every kind, and now and then a resume to the breakpoint, whose
      // `continued`/`stopped` events must stay where dlv put them among the responses.
      const first = s.sent.length + 1;
      const burst: Array<[string, unknown]> = [];
      for (let i = 0; i < COUNT; i++) {
        if (i % 1000 === 999) burst.push(['continue', { threadId }]);
        else burst.push(([['threads', undefined], ['stackTrace', { threadId, levels: 10 }], ['scopes', { frameId }], ['evaluate', { expression: 'x', frameId, context: 'watch' }]] as const)[i % 4] as [string, unknown]);
      }
      let seq = 10_000;
      for (const [command, args] of burst) s.send({ seq: ++seq, type: 'request', command, arguments: args });
      const seqs = s.sent.slice(first - 1).map((r) => r.seq);
      const all = await s.until(() => seqs.every((q) => s.responsesTo(q).length > 0), 120_000);
      assert.ok(all, `${seqs.filter((q) => s.responsesTo(q).length === 0).length} requests unanswered`);

      const responses = s.received.filter((m): m is DebugProtocol.Response => m.type === 'response' && (m as DebugProtocol.Response).request_seq > 10_000);
      assert.equal(responses.length, COUNT, 'exactly one response per request');
      assert.deepEqual(responses.map((r) => r.request_seq), seqs, 'in the order the requests were sent');
      assert.deepEqual(responses.map((r) => r.command), burst.map(([c]) => c), 'each matched to its request');
      assert.ok(s.events('stopped').length >= 5, 'the resumes stopped again at the breakpoint');

      // Everything dlv sent for the client, in dlv's order, is what the client got.
      await s.request('disconnect', { terminateDebuggee: true });
      await s.until(() => s.events('terminated').length > 0, 5000);
      const key = (m: DebugProtocol.ProtocolMessage) => (m.type === 'event' ? `event ${(m as DebugProtocol.Event).event}` : `response ${(m as DebugProtocol.Response).request_seq}`);
      const fromDlv = dlvMessagesForClient(tap, s.sent).map(key);
      // The proxy's own events are not dlv's: its bluepill/* events, and its console lines (a stop the
      // burst resumed before the tracker could read it is said so: "stop N ... was not analysed").
      const own = (m: DebugProtocol.ProtocolMessage) => m.type === 'event' && ((m as DebugProtocol.Event).event.startsWith('bluepill/') || String((m as DebugProtocol.OutputEvent).body?.output).startsWith('bluepill-lens: '));
      const got = s.received.filter((m) => !own(m)).map(key);
      assert.deepEqual(got.slice(0, fromDlv.length), fromDlv);
    } finally {
      await s.close();
      tap.close();
      await server.stop();
    }
  });
});
