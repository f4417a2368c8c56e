// The same scripted session, once straight to dlv and once through the proxy, must
// yield the same responses and events, apart from seq. This is what "forwards
// everything it does not annotate unchanged" means in practice.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { directClient, dlvDapServer, proxyClient, type RecordingClient } from '../support/client';
import { script } from '../support/sessionScript';
import { dlvMessagesForClient, tapBetween } from '../support/tap';
import { dlvPids, expectNoNewDlv } from '../support/processes';

/** dlv may still send (e.g. `terminated`) after answering disconnect: wait until the stream is quiet. */
async function settle(received: unknown[], also: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 5000;
  let count = -1;
  while (Date.now() < deadline && (received.length !== count || !also())) {
    count = received.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** What differs between two runs of a program (heap addresses, register values, ids) becomes its type. */
function shape(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => shape(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'seq').map(([k, v]) => [k, shape(v, k)]));
  }
  const stable = ['type', 'command', 'event', 'success', 'reason', 'category', 'request_seq', 'startMethod', 'allThreadsStopped'];
  return stable.includes(key) ? value : typeof value;
}

const withoutSeq = (messages: DebugProtocol.ProtocolMessage[]) => messages.map((m) => ({ ...m, seq: undefined }));

/** The proxy's own additions: custom bluepill/* events. Everything else must be dlv's. */
const isAnnotation = (m: DebugProtocol.ProtocolMessage) => m.type === 'event' && (m as DebugProtocol.Event).event.startsWith('bluepill/');

describe('transparency', () => {
  let program: string;
  const before_ = dlvPids();
  before(() => {
    program = buildFixture('hello');
  });
  after(async () => {
    await expectNoNewDlv(before_);
  });

  it('hands the client exactly what dlv sent, apart from seq (one run, dlv tapped)', async () => {
    const server = await dlvDapServer();
    const tap = await tapBetween(server.port);
    const dc = await proxyClient({ env: { BLUEPILL_CONNECT: `127.0.0.1:${tap.port}` } });
    try {
      await script(dc, program);
      await settle(dc.received);
      const received = dc.received.filter((m) => !isAnnotation(m));
      assert.ok(received.length > 40, `the script exercised dlv (${received.length} messages)`);
      assert.deepEqual(withoutSeq(received), withoutSeq(dlvMessagesForClient(tap, dc.sent)));
      assert.ok(dc.received.some(isAnnotation), 'the bluepill annotations were on');
      // Whatever dlv numbers (1.20 sends 0 everywhere), the proxy numbers its own: 1, 2, 3, ...
      assert.deepEqual(dc.received.map((m) => m.seq), dc.received.map((_, i) => i + 1));
    } finally {
      await dc.stop();
      tap.close();
      await server.stop();
    }
  });

  it('gives the same responses and events as a session straight to dlv (two runs)', async () => {
    const direct = await directClient();
    await script(direct.client, program);
    await settle(direct.client.received);
    await direct.stop();

    const viaProxy = await proxyClient();
    await script(viaProxy, program);
    await settle(viaProxy.received);
    const received = viaProxy.received.filter((m) => !isAnnotation(m));
    await viaProxy.stop();

    assert.deepEqual(received.map((m) => shape(m)), direct.client.received.map((m) => shape(m)));
  });

  it('a second answer from dlv to one request (restart: success, then "Failed to restart") reaches the client, and the contradiction is said in the console (issue 19.11)', async () => {
    const restartAnswers = async (dc: RecordingClient) => {
      await dc.initializeRequest();
      // A program that ends by itself: should a dlv be stopped before it, the program still ends.
      await Promise.all([dc.launchRequest({ mode: 'exec', program, args: [] } as never), dc.waitForEvent('initialized')]);
      const first = await dc.request('restart', {});
      const seq = first.request_seq;
      const answers = () => dc.received.filter((m): m is DebugProtocol.Response => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq);
      for (let i = 0; i < 100 && answers().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      return answers().map((r) => ({ success: r.success, command: r.command, error: (r as DebugProtocol.ErrorResponse).body?.error?.format }));
    };
    const direct = await directClient();
    let expected;
    try {
      expected = await restartAnswers(direct.client);
    } finally {
      await direct.stop();
    }
    assert.deepEqual(expected, [{ success: true, command: 'restart', error: undefined }, { success: false, command: 'restart', error: 'Failed to restart: cannot rebuild a binary' }], 'dlv 1.27.2 answers restart twice');
    const dc = await proxyClient();
    try {
      assert.deepEqual(await restartAnswers(dc), expected);
      assert.match(dc.outputText(), /dlv answered "restart" a second time, and it failed after all: Failed to restart: cannot rebuild a binary/);
    } finally {
      await dc.stop();
    }
  });
});
