// The proxy's own requests and annotations with inputs a client may really send: before a
// session exists, with addresses in odd shapes, while the program runs; breakpoint warnings for
// assembly lines, for a request with a bad entry, and none for breakpoints dlv refused.
// Live, amd64, the stdio adapter and the pinned dlv (cases found by an independent campaign).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { dlvInteger } from '../../adapter/explain/goHeapDlv';

const shown = (r: DebugProtocol.Response) => (r as DebugProtocol.ErrorResponse).body?.error?.format ?? r.message ?? '';
const GUEST = /kvm\.bluepill runs in guest mode/;

describe('custom requests before a session, and addresses in odd shapes', () => {
  let dc: RecordingClient;
  const before_ = dlvPids();
  after(async () => {
    await dc?.stop();
    await expectNoNewDlv(before_);
  });

  it('before launch: both explain requests say a session is needed, and the session after them still knows its binary', async () => {
    const program = buildFixture('minibluepill');
    const roundTrip = readElfFunctions(program).functions.find((f) => f.name === 'main.roundTrip')!.address;
    dc = await proxyClient();
    await dc.request('initialize', { adapterID: 'bluepill' });
    for (const command of ['bluepill/explain', 'bluepill/explainAddress']) {
      const early = await dc.request(command, { address: `0x${roundTrip.toString(16)}` });
      assert.equal(early.success, false, command);
      assert.match(shown(early), /needs a running debug session: send "launch" or "attach" first/);
    }
    await Promise.all([dc.launchRequest({ mode: 'exec', program, args: ['-trips', '1'] } as never), dc.waitForEvent('initialized')]);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    const explained = await dc.request('bluepill/explain', { address: `0x${roundTrip.toString(16)}` });
    assert.equal(explained.success, true, shown(explained));
    assert.match(JSON.stringify(explained.body), /main\.roundTrip/, 'named from the binary, as in a session without the early request');
  });

  it('addresses: a number, an array, 0X, spaces, 200 digits', async () => {
    for (const address of [12345, ['0x401000'], `0x${'1'.repeat(200)}`]) {
      const r = await dc.request('bluepill/explain', { address });
      assert.equal(r.success, false, JSON.stringify(address).slice(0, 40));
      assert.match(shown(r), /an address in hex, at most 16 digits/);
    }
    for (const address of ['0X401000', ' 0x401000 ']) {
      for (const command of ['bluepill/explain', 'bluepill/explainAddress']) {
        const r = await dc.request(command, { address });
        assert.equal(r.success, true, `${command} ${JSON.stringify(address)}: ${shown(r)}`);
      }
    }
  });
});

describe('breakpoint warnings: assembly lines, a bad entry among good ones, breakpoints dlv refused', () => {
  let dc: RecordingClient;
  let bluepill: bigint;
  const asm = path.join(path.dirname(fixtureSource('minibluepill')), 'kvm', 'bluepill_amd64.s');
  const before_ = dlvPids();

  before(async () => {
    const program = buildFixture('minibluepill');
    bluepill = readElfFunctions(program).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-trips', '1'] });
  });
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('a line of kvm.bluepill in its assembly file, by setBreakpoints and as a function breakpoint "file:line"', async () => {
    // The first instruction of kvm.bluepill: the line after its TEXT directive.
    const line = fs.readFileSync(asm, 'utf8').split('\n').findIndex((l) => l.startsWith('TEXT ·bluepill(SB)')) + 2;
    const byLine = await dc.setBreakpointsRequest({ source: { path: asm }, breakpoints: [{ line }] });
    assert.equal(byLine.body.breakpoints[0].verified, true);
    assert.match(byLine.body.breakpoints[0].message ?? '', GUEST);
    await dc.setBreakpointsRequest({ source: { path: asm }, breakpoints: [] });
    const byName = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `bluepill_amd64.s:${line}` }] });
    assert.equal(byName.body.breakpoints[0].verified, true);
    assert.match(byName.body.breakpoints[0].message ?? '', GUEST);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
  });

  it('an instruction breakpoint that is no address leaves the warning on the good one beside it', async () => {
    for (const bad of ['-0x10', 'main.roundTrip', '0xzz']) {
      const r = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: bad }, { instructionReference: `0x${bluepill.toString(16)}` }] });
      const [first, second] = (r.body as DebugProtocol.SetInstructionBreakpointsResponse['body']).breakpoints;
      assert.doesNotMatch(first.message ?? '', GUEST, bad);
      assert.equal(second.verified, true);
      assert.match(second.message ?? '', GUEST, `beside ${bad}`);
    }
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
  });

  it('no warning on a breakpoint dlv did not set', async () => {
    const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'minibluepill/kvm.bluepill.abi0' }, { name: 'minibluepill/kvm.bluepill', condition: '1 +' }] });
    for (const bp of r.body.breakpoints) {
      assert.equal(bp.verified, false, bp.message);
      assert.doesNotMatch(bp.message ?? '', GUEST);
    }
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
  });
});

describe('a heap address while the program runs', () => {
  let dc: RecordingClient;
  const before_ = dlvPids();
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('says to pause first, not that the address is no heap', async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program: buildFixture('hello'), args: ['-forever', '-print-addresses'] });
    await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    const frameId = (await dc.stackTraceRequest({ threadId, levels: 1 })).body.stackFrames[0].id;
    const heap = dlvInteger((await dc.evaluateRequest({ expression: 'uintptr(unsafe.Pointer(main.heapSentinel))', frameId, context: 'repl' })).body.result)!;
    await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [] });
    await dc.continueRequest({ threadId });
    const r = await dc.request('bluepill/explainAddress', { address: `0x${heap.toString(16)}` });
    assert.equal(r.success, true, shown(r));
    const address = (r.body as { address: { kind: string; unknown: string[]; details: string[] } }).address;
    assert.equal(address.kind, 'go-heap');
    assert.ok(address.unknown.some((u) => /Pause the program/.test(u)), address.unknown.join('\n'));
    assert.ok(!address.details.some((d) => /not an arena of the Go heap/.test(d)), address.details.join('\n'));
  });
});
