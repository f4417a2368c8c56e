// The interrupted stack, spliced into the Call Stack, live on amd64: minibluepill under
// the pinned dlv, through the proxy. At kvm.bluepillGuestExit dlv's stack ends in the
// handler; below it the proxy unwinds the ucontext's RIP/RSP/RBP to the fixture's main.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { continueTo, nextStopState, stepInstruction } from '../support/bluepill';
import { readElfFunctions } from '../../adapter/elf/symbols';

const SIGNAL_FRAME = /^\(ucontext\) /;

/** The 1-based line of `text` in a fixture source file. */
function lineOf(file: string, text: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} in ${file}`);
  return i + 1;
}

/** The whole stack as VS Code pages it: the top frame first, then the rest in pages of `page`. */
async function pagedStack(dc: RecordingClient, threadId: number, page: number): Promise<{ frames: DebugProtocol.StackFrame[]; totals: number[] }> {
  const first = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 1 });
  const frames = [...first.body.stackFrames];
  const totals = [first.body.totalFrames!];
  for (let i = 0; i < 50 && frames.length < totals.at(-1)!; i++) {
    const next = await dc.stackTraceRequest({ threadId, startFrame: frames.length, levels: page });
    assert.ok(next.body.stackFrames.length > 0, `a page from frame ${frames.length} of ${totals.at(-1)}`);
    frames.push(...next.body.stackFrames);
    totals.push(next.body.totalFrames!);
  }
  return { frames, totals };
}

describe('the interrupted stack in the Call Stack (amd64, minibluepill, live)', () => {
  let dc: RecordingClient;
  let program: string;
  let threadId: number;
  let bluepill: { address: bigint; size: number };
  const before_ = dlvPids();

  before(async () => {
    program = buildFixture('minibluepill');
    bluepill = readElfFunctions(program).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!;
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-trips', '4'] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'minibluepill/kvm.bluepillGuestExit' }] });
    const before = dc.events('bluepill/state').length;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    assert.equal((await nextStopState(dc, before)).stop!.phase, 'guest-exit');
  });
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('at bluepillGuestExit: the interrupted host stack from the trap to main, after the handler\'s frames; dlv\'s all there', async () => {
    const stack = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 });
    const frames = stack.body.stackFrames;
    const names = frames.map((f) => f.name);
    const sep = names.indexOf('── interrupted (host, ring 3) ──');
    assert.equal(frames[sep]?.presentationHint, 'label', names.join(' | '));
    assert.equal(names[sep - 1], 'kvm.sighandler', 'right after the signal handler (amd64: dlv shows no trampoline frame here)');
    const block = frames.slice(sep + 1, sep + 1 + frames.slice(sep + 1).findIndex((f) => !SIGNAL_FRAME.test(f.name)));
    assert.ok(block.length >= 4 && block.every((f) => f.presentationHint === 'normal' && f.id >= 2_000_000_000), names.join(' | '));
    // dlv's frames, every one in its order: its view of the interrupted stack (which skips kvm.bluepill and kvm.Bluepill) follows the spliced block.
    const dlvs = frames.filter((f) => !SIGNAL_FRAME.test(f.name) && f.presentationHint !== 'label');
    assert.deepEqual(dlvs.map((f) => f.name), ['kvm.bluepillGuestExit', 'kvm.bluepillHandler', 'kvm.bluepillHandler', 'kvm.sighandler', 'main.roundTrip', 'main.main', 'runtime.main', 'runtime.goexit']);
    assert.ok(dlvs.every((f) => f.id < 2_000_000_000), 'dlv\'s frame ids are its own');
    assert.equal(new Set(frames.map((f) => f.id)).size, frames.length, 'no two frames share an id');
    assert.equal(stack.body.totalFrames, frames.length);

    // From the function that trapped (at its CLI) through its callers to main.
    const spliceNames = block.map((f) => f.name.replace(SIGNAL_FRAME, ''));
    assert.deepEqual(spliceNames.slice(0, 4), ['kvm.bluepill', 'kvm.Bluepill', 'main.roundTrip', 'main.main'], spliceNames.join(' | '));
    assert.equal(BigInt(block[0].instructionPointerReference!), bluepill.address);
    // Source lines where DWARF has them: a caller's is the line of its call.
    const mainGo = path.join(path.dirname(program), '..', 'main.go');
    const roundTrip = block[2];
    assert.equal(path.resolve(roundTrip.source!.path!), path.resolve(mainGo));
    assert.equal(roundTrip.line, lineOf(mainGo, 'kvm.Bluepill() // round trip here'));
    assert.equal(block[3].line, lineOf(mainGo, '\t\troundTrip()'));
  });

  it('pages like VS Code: the first frame, then the rest; the total stays consistent', async () => {
    const whole = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 });
    for (const page of [3, 20]) {
      const { frames, totals } = await pagedStack(dc, threadId, page);
      // dlv numbers its frames anew at every request; the proxy's keep their ids for the whole stop.
      const ids = (list: DebugProtocol.StackFrame[]) => list.map((f) => [f.name, SIGNAL_FRAME.test(f.name) || f.presentationHint === 'label' ? f.id : 'dlv']);
      assert.deepEqual(ids(frames), ids(whole.body.stackFrames), `pages of ${page}: the same frames`);
      assert.equal(totals.at(-1), frames.length);
    }
    const past = await dc.stackTraceRequest({ threadId, startFrame: whole.body.stackFrames.length + 5, levels: 10 });
    assert.deepEqual(past.body.stackFrames, []);
    assert.equal(past.body.totalFrames, whole.body.stackFrames.length);
  });

  it('a request about a spliced frame is answered here, never sent to dlv', async () => {
    const frames = (await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 })).body.stackFrames;
    const spliced = frames.find((f) => SIGNAL_FRAME.test(f.name))!;
    assert.ok(spliced, frames.map((f) => f.name).join(' | '));
    const scopes = await dc.scopesRequest({ frameId: spliced.id });
    assert.deepEqual(scopes.body.scopes, []);
    const evaluate = await dc.request('evaluate', { expression: 'RIP', frameId: spliced.id, context: 'watch' });
    assert.equal(evaluate.success, false);
    assert.match((evaluate as DebugProtocol.ErrorResponse).body!.error!.format, /unwound by bluepill-lens from the signal context.*Select a frame above the separator/);
    // dlv's own frames still answer.
    assert.equal((await dc.scopesRequest({ frameId: frames[0].id })).success, true);
    const explained = (await dc.customRequest('bluepill/explain', { frameId: spliced.id })).body as { where: string };
    assert.equal(explained.where, 'minibluepill/kvm.bluepill');
  });

  it('after bluepillGuestExit wrote the guest\'s registers: the stack at the exit', async () => {
    let state = await stepInstruction(dc, threadId);
    for (let i = 0; i < 120 && state.stop!.phase !== 'sigreturn'; i++) state = await stepInstruction(dc, threadId);
    assert.equal(state.stop!.phase, 'sigreturn');
    const frames = (await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 })).body.stackFrames;
    const names = frames.map((f) => f.name);
    const sep = names.indexOf('── guest at exit (ring 0) ──');
    assert.equal(sep, 1, `right after the trampoline, the top frame: ${names.join(' | ')}`);
    assert.match(names[0], /rt_sigreturn trampoline/);
    // The first trip resumes right after the CLI (odd trips: GuestExits is 1).
    assert.equal(BigInt(frames[sep + 1].instructionPointerReference!), bluepill.address + 1n);
    assert.deepEqual(names.slice(sep + 1, sep + 5).map((n) => n.replace(SIGNAL_FRAME, '')), ['kvm.bluepill', 'kvm.Bluepill', 'main.roundTrip', 'main.main']);
  });

  it('outside the handler nothing is spliced', async () => {
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }] });
    const state = await continueTo(dc, threadId);
    assert.ok(['host', 'resumed'].includes(state.stop!.phase), state.stop!.phase);
    const frames = (await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 })).body.stackFrames;
    assert.deepEqual(frames.filter((f) => SIGNAL_FRAME.test(f.name) || f.presentationHint === 'label'), []);
  });
});

describe('the interrupted stack of another vCPU thread, in the handler while one thread stopped (amd64, live)', () => {
  let dc: RecordingClient;
  const before_ = dlvPids();
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('each thread in the handler gets its own spliced stack, read when the client asks for it; threads outside get none', async () => {
    // Three vCPU threads whose trips stay 100 ms in KVM_RUN's stand-in: while the main goroutine stops at
    // bluepillGuestExit, the others are nearly always inside the handler.
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program: buildFixture('minibluepill'), args: ['-forever', '-vcpus', '3'] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }] });
    const first = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const stopper = ((await first) as DebugProtocol.StoppedEvent).body.threadId!;
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'minibluepill/kvm.bluepillGuestExit' }] });
    let others: Array<{ id: number; frames: DebugProtocol.StackFrame[] }> = [];
    for (let attempt = 0; attempt < 10 && others.length === 0; attempt++) {
      const stopped = dc.waitForEvent('stopped');
      await dc.continueRequest({ threadId: stopper });
      const at = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
      const threads = (await dc.threadsRequest()).body.threads.filter((t) => t.id !== at);
      const stacks = await Promise.all(threads.map(async (t) => ({ id: t.id, frames: (await dc.stackTraceRequest({ threadId: t.id, startFrame: 0, levels: 60 })).body.stackFrames })));
      others = stacks.filter((s) => s.frames.some((f) => f.name === 'kvm.bluepillHandler'));
      for (const s of stacks.filter((x) => !x.frames.some((f) => f.name === 'kvm.bluepillHandler'))) {
        assert.ok(!s.frames.some((f) => SIGNAL_FRAME.test(f.name) || f.presentationHint === 'label'), `thread ${s.id} outside the handler: nothing spliced (${s.frames.map((f) => f.name).join(' | ')})`);
      }
    }
    assert.ok(others.length > 0, 'another thread inside the handler at one of 10 stops');
    for (const other of others) {
      const names = other.frames.map((f) => f.name);
      assert.ok(names.some((n) => /^── interrupted \(host, ring 3\) ──$/.test(n)), `thread ${other.id}: ${names.join(' | ')}`);
      const spliced = names.filter((n) => SIGNAL_FRAME.test(n)).map((n) => n.replace(SIGNAL_FRAME, ''));
      // From the trap to the goroutine's own trip: a vCPU goroutine's, or the main one's.
      assert.deepEqual(spliced.slice(0, 2), ['kvm.bluepill', 'kvm.Bluepill'], `thread ${other.id}: ${names.join(' | ')}`);
      assert.match(spliced[2] ?? '', /^main\.(vcpuTrip|roundTrip)$/, `thread ${other.id}: ${names.join(' | ')}`);
    }
  });
});
