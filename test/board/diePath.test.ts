// gVisor's die path live on ARM64: minibluepill -die-with-exit-reason under dlv in the emulated
// board dies as dieAndDumpExitReason makes a vCPU die (the exit in X9–X14, the PC at the marker
// after sigreturn through the real kernel's vDSO, inside entersyscall). Through the proxy in
// remote mode, the stop dlv makes on the fatal signal carries the vCPU's exit in words.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, minibluepillDieExit } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { nextStopState } from '../support/bluepill';
import { boardUnavailable, startBoard, type Board } from '../support/board';
import { isAlive } from '../support/processes';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { KVM_EXIT_REASONS } from '../../adapter/bluepill/dieMarkers';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

describe('ARM64 board: gVisor\'s die path at dlv\'s fatal-signal stop', { skip: unavailable ?? false }, () => {
  let board: Board;
  let dc: RecordingClient;
  let trap: bigint;

  before(async () => {
    const program = buildFixture('minibluepill', { goarch: 'arm64' });
    trap = readElfFunctions(program).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
    board = await startBoard('program', { program, programArgs: ['-die-with-exit-reason'] });
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('the marker is in dlv\'s stack, and X9–X14 from the runtime handler\'s ucontext name the exit and the trap', async () => {
    const [reason, ...data] = minibluepillDieExit();
    const stopped = dc.waitForEvent('stopped', 120_000);
    await dc.configurationDoneRequest();
    const body = ((await stopped) as DebugProtocol.StoppedEvent).body;
    assert.equal(body.reason, 'exception');
    const frames = (await dc.stackTraceRequest({ threadId: body.threadId!, levels: 8 })).body.stackFrames;
    const shown = frames.map((f) => `${f.name} ${f.instructionPointerReference}`).join(', ');
    assert.ok(frames.some((f) => f.instructionPointerReference === '0xabc'), `the marker is a frame: ${shown}`);
    const state = await nextStopState(dc, 0, 60_000);
    assert.equal(state.variant?.id, 'arm64');
    const died = state.diagnoses.find((d) => d.id === 'vcpu-died');
    assert.ok(died, `a vcpu-died diagnosis at ${state.stop?.symbol} (${shown}); got ${JSON.stringify(state.diagnoses)}`);
    assert.match(died.message, new RegExp(`^vCPU died: exit reason ${KVM_EXIT_REASONS[Number(reason)]} \\(${reason}\\), data ${data.map((d) => `0x${d.toString(16)}`).join(' ')}, at PC 0x${trap.toString(16)}\\b`));
    assert.match(died.message, /original PC in X9 and the exit reason and data in X10–X14/);
  });
});
