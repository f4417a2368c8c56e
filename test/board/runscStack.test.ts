// The interrupted stack with real gVisor, live on ARM64: runsc --platform=kvm in the
// emulated board, the board's dlv attached to runsc-sandbox, the proxy in remote mode.
// At bluepillGuestExit the spliced stack is the host's at the trap (kvm.bluepill and its
// callers); once bluepillGuestExit has written the guest's registers into the ucontext,
// it is the guest's stack at its exit. The frames' PCs are checked against runsc's own
// symbol table here (the session has none: it is remote).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { nextStopState, stepInstruction } from '../support/bluepill';
import { boardUnavailable, startBoard, type Board } from '../support/board';
import { isAlive } from '../support/processes';
import { GVISOR_VERSION } from '../support/runsc';
import { readElfFunctions, symbolize, type ElfSymbol } from '../../adapter/elf/symbols';
import type { BluepillState } from '../../adapter/bluepill/state';

const KVM_PACKAGE = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';
const SIGNAL_FRAME = /^\(ucontext\) /;

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

describe(`ARM64 board: the interrupted stack with runsc ${GVISOR_VERSION} --platform=kvm, live`, { skip: unavailable ?? false }, () => {
  let board: Board | undefined;
  let skip: string | undefined;
  let dc: RecordingClient;
  let threadId: number;
  let functions: ElfSymbol[];
  let state: BluepillState;

  /** The spliced frames below `separator`, with the function runsc's symbol table puts each PC in. */
  async function splicedBelow(separator: string): Promise<{ spliced: Array<{ frame: DebugProtocol.StackFrame; fn: string }>; end: string }> {
    const frames = (await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 200 })).body.stackFrames;
    const names = frames.map((f) => f.name);
    const sep = names.indexOf(separator);
    assert.ok(sep > 0, `${separator} below dlv's frames: ${names.join(' | ')}`);
    assert.ok(names.slice(0, sep).every((n) => !SIGNAL_FRAME.test(n)), 'the handler\'s frames first');
    assert.match(names[sep - 1], /rt_sigreturn trampoline/, 'right after the trampoline the handler returns to');
    // The block: spliced frames, then at most one label (why the walk stopped); dlv's frames follow.
    const after = frames.slice(sep + 1);
    const blockEnd = after.findIndex((f) => !SIGNAL_FRAME.test(f.name));
    const below = blockEnd < 0 ? after : after.slice(0, after[blockEnd].presentationHint === 'label' ? blockEnd + 1 : blockEnd);
    const end = below.find((f) => f.presentationHint === 'label')?.name ?? 'the outermost frame';
    assert.ok(after.slice(below.length).every((f) => !SIGNAL_FRAME.test(f.name) && f.presentationHint !== 'label'), 'then dlv\'s own frames');
    const spliced = below.filter((f) => f.presentationHint !== 'label').map((frame) => ({ frame, fn: symbolize(functions, BigInt(frame.instructionPointerReference!))?.symbol.name ?? '?' }));
    return { spliced, end };
  }

  before(async () => {
    try {
      board = await startBoard('runsc');
    } catch (e) {
      const why = /\[board\] scenario runsc failed: (.*)/.exec(String(e));
      if (!why) throw e;
      skip = `runsc --platform=kvm cannot run in the ARM64 board: ${why[1]}`;
      console.log(`skipped: ${skip}`);
      return;
    }
    functions = readElfFunctions(board.runsc).functions;
    dc = await proxyClient();
    dc.defaultTimeout = 120_000;
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `${KVM_PACKAGE}.bluepillGuestExit` }] });
    const stopped = dc.waitForEvent('stopped', 120_000);
    await dc.configurationDoneRequest();
    threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    state = await nextStopState(dc, 0, 60_000);
    assert.equal(state.stop!.phase, 'guest-exit');
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('at bluepillGuestExit: the host stack the trap interrupted, from kvm.bluepill through its callers', async (t) => {
    if (skip) return t.skip(skip);
    const { spliced, end } = await splicedBelow('── interrupted (host, EL0) ──');
    console.log(`interrupted host stack (LR ${state.ucontext!.lr}): ${spliced.map((s) => `${s.fn} (${s.frame.name.replace(SIGNAL_FRAME, '')})`).join(' ← ')}; ${end}`);
    assert.equal(BigInt(spliced[0].frame.instructionPointerReference!), BigInt(state.ucontext!.pc));
    assert.equal(spliced[0].fn, `${KVM_PACKAGE}.bluepill.abi0`);
    // kvm.bluepill (not a leaf: it may call redpill) keeps LR in its own record: its caller is LR's function.
    assert.equal(spliced[1]?.fn, symbolize(functions, BigInt(state.ucontext!.lr!))?.symbol.name, 'the caller of the function that trapped');
    assert.ok(spliced.every((s) => s.fn !== '?'), 'every PC is code in runsc');
    assert.ok(spliced.every((s) => s.frame.source?.path && s.frame.line > 0), 'every frame has its source line');
  });

  it('after bluepillGuestExit wrote the guest\'s registers: the guest\'s stack at the exit, with its callers', async (t) => {
    if (skip) return t.skip(skip);
    // Step until the handler returns towards the trampoline: the context then holds the guest's registers.
    for (let i = 0; i < 600 && state.stop!.phase !== 'sigreturn'; i++) state = await stepInstruction(dc, threadId);
    assert.equal(state.stop!.phase, 'sigreturn');
    const { spliced, end } = await splicedBelow('── guest at exit (EL1) ──');
    console.log(`guest stack at the exit (PC ${state.ucontext!.pc}): ${spliced.map((s) => `${s.fn} (${s.frame.name.replace(SIGNAL_FRAME, '')})`).join(' ← ')}; ${end}`);
    assert.equal(BigInt(spliced[0].frame.instructionPointerReference!), BigInt(state.ucontext!.pc));
    assert.ok(spliced.length >= 2, 'the exit PC and at least one caller');
    assert.ok(spliced.every((s) => s.fn !== '?'), 'every PC is code in runsc');
  });
});
