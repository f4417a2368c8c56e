// The interrupted stack on ARM64, live: minibluepill under dlv inside the emulated
// board, through the proxy in remote mode (no symbols on this side: frames are named
// by the file and line dlv's disassembly gives). At bluepillGuestExit the proxy
// unwinds the ucontext's PC, LR and X29 below dlv's frames; after the guest exit,
// from the PC bluepillGuestExit wrote.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { nextStopState, stepInstruction } from '../support/bluepill';
import { boardUnavailable, startBoard, type Board } from '../support/board';
import { isAlive } from '../support/processes';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { minibluepillLine } from '../support/fixtures';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

const SIGNAL_FRAME = /^\(ucontext\) /;

describe('ARM64 board: the interrupted stack in the Call Stack (minibluepill, live)', { skip: unavailable ?? false }, () => {
  let board: Board;
  let dc: RecordingClient;
  let threadId: number;
  let bluepillAddress: bigint;

  before(async () => {
    board = await startBoard('minibluepill');
    bluepillAddress = readElfFunctions(board.minibluepill).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'minibluepill/kvm.bluepillGuestExit' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    assert.equal((await nextStopState(dc, 0, 60_000)).stop!.phase, 'guest-exit');
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('at bluepillGuestExit: below dlv\'s frames, from the MRS through LR and the frame records to main', async () => {
    const stack = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 });
    const frames = stack.body.stackFrames;
    const names = frames.map((f) => f.name);
    const sep = names.indexOf('── interrupted (host, EL0) ──');
    assert.ok(sep > 0, names.join(' | '));
    assert.equal(names[0], 'kvm.bluepillGuestExit');
    assert.ok(names.slice(0, sep).every((n) => !SIGNAL_FRAME.test(n)), 'the handler\'s frames first');
    assert.match(names[sep - 1], /rt_sigreturn trampoline/, 'right after the trampoline the handler returns to');
    assert.equal(stack.body.totalFrames, frames.length);
    const spliced = frames.slice(sep + 1).filter((f) => SIGNAL_FRAME.test(f.name));
    assert.ok(frames.slice(sep + 1, sep + 1 + spliced.length).every((f) => SIGNAL_FRAME.test(f.name)), 'one block');
    assert.equal(BigInt(spliced[0].instructionPointerReference!), bluepillAddress);
    assert.deepEqual(
      spliced.slice(0, 4).map((f) => f.name.replace(SIGNAL_FRAME, '')),
      [minibluepillLine('kvm/bluepill_arm64.s', 'WORD\t$0xd538d08a\t// MRS TPIDR_EL1, R10: undefined at EL0 -> SIGILL'), minibluepillLine('kvm/bluepill.go', 'func Bluepill() { bluepill() }'), minibluepillLine('main.go', 'kvm.Bluepill() // round trip here'), minibluepillLine('main.go', 'roundTrip()')],
      names.join(' | '),
    );
    assert.ok(spliced.every((f) => f.presentationHint === 'normal' && f.source?.path), 'shown (not folded away), each with its source');
  });

  it('after the guest exit: the stack from the PC bluepillGuestExit wrote', async () => {
    let state = await stepInstruction(dc, threadId);
    for (let i = 0; i < 200 && state.stop!.phase !== 'sigreturn'; i++) state = await stepInstruction(dc, threadId);
    assert.equal(state.stop!.phase, 'sigreturn');
    const frames = (await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 })).body.stackFrames;
    const names = frames.map((f) => f.name);
    const sep = names.indexOf('── guest at exit (EL1) ──');
    assert.ok(sep > 0, names.join(' | '));
    assert.equal(BigInt(frames[sep + 1].instructionPointerReference!), BigInt(state.ucontext!.pc), 'the first frame is at the context\'s new PC');
    assert.ok(names.slice(sep + 1).some((n) => n === `(ucontext) ${minibluepillLine('main.go', 'roundTrip()')}`), names.join(' | '));
  });
});
