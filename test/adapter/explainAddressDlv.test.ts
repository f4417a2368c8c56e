// What dlv says of Go heap addresses, live through the proxy: the hello fixture stopped in
// main.square after it allocated its heap sentinel ([32]int); the span, its class and the object
// are read from the runtime's tables with dlv evaluate; a goroutine stack is a manual span; an
// address outside the heap is said to be no arena of it.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { nextStopState } from '../support/bluepill';
import { dlvInteger, goHeapSpan, type Evaluate } from '../../adapter/explain/goHeapDlv';

describe('Go heap addresses through dlv (the span, its class, the object)', () => {
  let dc: RecordingClient;
  let evaluate: Evaluate;
  let frameId: number;
  let goroutine: number;
  const before_ = dlvPids();

  before(async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program: buildFixture('hello'), args: ['-forever', '-print-addresses'] });
    await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    goroutine = stop.body.threadId!;
    frameId = (await dc.stackTraceRequest({ threadId: stop.body.threadId!, levels: 1 })).body.stackFrames[0].id;
    evaluate = async (expression) => {
      try {
        return (await dc.evaluateRequest({ expression, frameId, context: 'repl' })).body.result;
      } catch {
        return undefined;
      }
    };
  });
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('the heap sentinel: an in-use span of 256-byte noscan objects, the object starting at the sentinel', async () => {
    const address = dlvInteger((await evaluate('uintptr(unsafe.Pointer(main.heapSentinel))')))!;
    const span = await goHeapSpan(address + 8n, 'amd64', evaluate);
    assert.equal(span.inHeap, true, span.details.join('\n'));
    assert.equal(span.span?.state, 1, span.details.join('\n'));
    // [32]int is 256 bytes and holds no pointers: dlv's own view of the runtime agrees.
    assert.equal(span.span?.elemsize, 256n);
    assert.equal(span.span?.noscan, true);
    assert.equal(span.span?.object?.start, address);
    assert.ok(span.details.some((d) => /\+8 bytes in/.test(d)), span.details.join('\n'));
    assert.ok(span.unknown.some((u) => /type/.test(u)));
  });

  it('an object\'s type where the runtime records it: a malloc header (over 512 bytes, with pointers), a large object\'s span; none for noscan objects', async () => {
    const headed = dlvInteger(await evaluate('uintptr(unsafe.Pointer(main.headedObject))'))!;
    const small = await goHeapSpan(headed + 16n, 'amd64', evaluate);
    assert.equal(small.span?.noscan, false, small.details.join('\n'));
    assert.ok(small.span!.elemsize! > 512n, `a size class above 512 bytes: ${small.span?.elemsize}`);
    assert.equal(small.span?.object?.start, headed - 8n, 'the slot starts with the 8-byte header, the value after it');
    assert.equal(small.span?.type, 'main.pointerRing', small.details.join('\n') + small.unknown.join('\n'));
    assert.ok(small.details.some((d) => /its type is main\.pointerRing \(its malloc header/.test(d)), small.details.join('\n'));
    const large = dlvInteger(await evaluate('uintptr(unsafe.Pointer(main.largeObject))'))!;
    const big = await goHeapSpan(large + 4096n, 'amd64', evaluate);
    assert.equal(big.span?.sizeclass, 0, 'a large object has a span of its own (size class 0)');
    assert.equal(big.span?.type, 'main.pointerTable', big.details.join('\n') + big.unknown.join('\n'));
    assert.ok(big.details.some((d) => /largeType/.test(d)), big.details.join('\n'));
    const sentinel = dlvInteger(await evaluate('uintptr(unsafe.Pointer(main.heapSentinel))'))!;
    const noscan = await goHeapSpan(sentinel, 'amd64', evaluate);
    assert.equal(noscan.span?.type, undefined);
    assert.ok(noscan.unknown.some((u) => /objects without pointers, for which the runtime keeps no type/.test(u)), noscan.unknown.join('\n'));
  });

  it('the stopped goroutine\'s stack is a manually managed span; a global is no heap arena', async () => {
    const sp = dlvInteger((await evaluate('uintptr(unsafe.Pointer(&x))')))!;
    const stack = await goHeapSpan(sp, 'amd64', evaluate);
    assert.equal(stack.span?.state, 2, stack.details.join('\n'));
    assert.ok(stack.details.some((d) => /goroutine stack/.test(d)));
    // Whose: the goroutine that stopped (dlv's thread id is its goroutine id), read from runtime.allgs.
    assert.ok(stack.details.some((d) => d.startsWith(`dlv: the stack of goroutine ${goroutine} (runtime.allgs`)), stack.details.join('\n'));
    const global = dlvInteger((await evaluate('uintptr(unsafe.Pointer(&main.noptrValue))')))!;
    const notHeap = await goHeapSpan(global, 'amd64', evaluate);
    assert.equal(notHeap.inHeap, false, notHeap.details.join('\n'));
  });

  it('bluepill/explainAddress answers any DAP client: the heap object with its span from /proc and dlv, code as a PC, a bad address with what to give', async () => {
    const sentinel = dlvInteger(await evaluate('uintptr(unsafe.Pointer(main.heapSentinel))'))!;
    const heap = (await dc.customRequest('bluepill/explainAddress', { address: `0x${(sentinel + 8n).toString(16)}` })).body as { address: { kind: string; details: string[]; origin: string } };
    assert.equal(heap.address.kind, 'go-heap');
    assert.match(heap.address.origin, /^\/proc\/\d+\/maps/);
    assert.ok(heap.address.details.some((d) => /\+8 bytes in/.test(d)), heap.address.details.join('\n'));
    const pc = dlvInteger(await evaluate('uintptr(main.square)')) ?? BigInt((await dc.stackTraceRequest({ threadId: 1, levels: 1 })).body.stackFrames[0].instructionPointerReference!);
    const code = (await dc.customRequest('bluepill/explainAddress', { address: `0x${pc.toString(16)}` })).body as { address: { kind: string }; code: { where: string } };
    assert.equal(code.address.kind, 'code');
    assert.match(code.code.where, /\bmain\./);
    await assert.rejects(dc.customRequest('bluepill/explainAddress', { address: 'nope' }), /Give \{ "address": "0x…" \}/);
  });
});

describe('whose stack a ucontext is on: the signal stack of the thread that trapped (minibluepill, live)', () => {
  let dc: RecordingClient;
  const before_ = dlvPids();

  before(async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program: buildFixture('minibluepill'), args: ['-trips', '2'] });
  });
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('at kvm.kvmRun the ucontext is in a manual span: the gsignal stack of an M, named through runtime.allm', async () => {
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'minibluepill/kvm.kvmRun' }] });
    const states = dc.events('bluepill/state').length;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    const state = await nextStopState(dc, states);
    const ucontext = state.ucontext?.address;
    assert.ok(ucontext, 'the tracker read the ucontext');
    const answer = (await dc.customRequest('bluepill/explainAddress', { address: ucontext })).body as { address: { kind: string; details: string[] } };
    assert.ok(answer.address.details.some((d) => /^dlv: the signal \(gsignal\) stack of thread M\d+ \(runtime\.allm: 0x[0-9a-f]+–0x[0-9a-f]+\), not a goroutine's\.$/.test(d)), answer.address.details.join('\n'));
  });
});
