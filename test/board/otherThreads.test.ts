// Other vCPU threads on ARM64, live: minibluepill -forever -vcpus 3 under dlv inside the
// emulated board (a real ARM64 kernel delivers each thread's SIGILL and builds its
// ucontext), through the proxy in remote mode. While the main goroutine stops at
// bluepillGuestExit, the vCPU threads are nearly always inside the handler too: each
// one's Call Stack gets the stack its own signal interrupted, read from its own
// ucontext when the client asks; a thread outside the handler gets nothing spliced.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, minibluepillLine } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { nextStopState } from '../support/bluepill';
import { boardUnavailable, startBoard, type Board } from '../support/board';
import { isAlive } from '../support/processes';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

const SIGNAL_FRAME = /^\(ucontext\) /;
const SEPARATOR = '── interrupted (host, EL0) ──';

describe('ARM64 board: the interrupted stack of other vCPU threads in the handler (minibluepill -vcpus 3, live)', { skip: unavailable ?? false }, () => {
  let board: Board;
  let dc: RecordingClient;
  let stopper: number;
  /** Stacks of the threads other than the stopped one, at the first stop where one of them is in the handler. */
  let inside: Array<{ id: number; frames: DebugProtocol.StackFrame[] }> = [];
  let outside: Array<{ id: number; frames: DebugProtocol.StackFrame[] }> = [];

  before(async () => {
    const program = buildFixture('minibluepill', { goarch: 'arm64' });
    board = await startBoard('program', { program, programArgs: ['-forever', '-vcpus', '3'] });
    console.log(`board: dlv exec of minibluepill -forever -vcpus 3 on 127.0.0.1:${board.port} after ${board.startSeconds.toFixed(1)} s`);
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }] });
    const first = dc.waitForEvent('stopped', 120_000);
    await dc.configurationDoneRequest();
    stopper = ((await first) as DebugProtocol.StoppedEvent).body.threadId!;
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'minibluepill/kvm.bluepillGuestExit' }] });
    // The vCPU threads stay 100 ms a trip in KVM_RUN's stand-in: nearly always in the handler.
    for (let attempt = 0; attempt < 10 && inside.length === 0; attempt++) {
      const stopped = dc.waitForEvent('stopped', 120_000);
      const states = dc.events('bluepill/state').length;
      await dc.continueRequest({ threadId: stopper });
      const at = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
      await nextStopState(dc, states, 120_000);
      const threads = (await dc.threadsRequest()).body.threads.filter((t) => t.id !== at);
      const stacks = [];
      // One at a time, as VS Code expands them: a slow board answers each in turn.
      for (const t of threads) stacks.push({ id: t.id, frames: (await dc.stackTraceRequest({ threadId: t.id, startFrame: 0, levels: 60 })).body.stackFrames });
      const inHandler = (s: { frames: DebugProtocol.StackFrame[] }) => s.frames.some((f) => /kvm\.bluepillHandler$/.test(f.name) || f.name === SEPARATOR);
      inside = stacks.filter(inHandler);
      outside = stacks.filter((s) => !inHandler(s));
    }
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('another thread is inside the handler at one of 10 stops', () => {
    console.log(`${inside.length} other threads in the handler, ${outside.length} outside; one inside: ${inside[0]?.frames.map((f) => f.name).join(' | ')}`);
    assert.ok(inside.length > 0, `threads outside: ${outside.map((s) => s.frames.map((f) => f.name).join(' | ')).join(' // ')}`);
  });

  it('each gets the stack its own signal interrupted: the MRS, then Bluepill, then its own goroutine\'s trip', () => {
    for (const other of inside) {
      const names = other.frames.map((f) => f.name);
      const sep = names.indexOf(SEPARATOR);
      assert.ok(sep > 0, `thread ${other.id}: ${names.join(' | ')}`);
      const spliced = names.slice(sep + 1).filter((n) => SIGNAL_FRAME.test(n)).map((n) => n.replace(SIGNAL_FRAME, ''));
      assert.deepEqual(
        spliced.slice(0, 2),
        [minibluepillLine('kvm/bluepill_arm64.s', 'WORD\t$0xd538d08a\t// MRS TPIDR_EL1, R10: undefined at EL0 -> SIGILL'), minibluepillLine('kvm/bluepill.go', 'func Bluepill() { bluepill() }')],
        `thread ${other.id}: ${names.join(' | ')}`,
      );
      // A vCPU goroutine's trip, or the main goroutine's (a vCPU thread may run it after a stop).
      assert.ok([minibluepillLine('main.go', 'kvm.Bluepill() // vcpu trip here'), minibluepillLine('main.go', 'kvm.Bluepill() // round trip here')].includes(spliced[2]), `thread ${other.id}: ${names.join(' | ')}`);
    }
  });

  it('threads outside the handler get nothing spliced', () => {
    for (const s of outside) {
      const names = s.frames.map((f) => f.name);
      assert.ok(!s.frames.some((f) => SIGNAL_FRAME.test(f.name) || f.presentationHint === 'label'), `thread ${s.id}: ${names.join(' | ')}`);
    }
  });
});
