// Every stop counts, on ARM64: minibluepill runs under dlv inside the emulated board
// (a real ARM64 kernel, its real vDSO trampoline), and the host steps it by
// instruction as fast as dlv answers, through the proxy in remote mode, across two
// whole round trips. Each stop must be classified and recorded, in order: every
// phase, the ucontext PC, the vDSO trampoline's label, one trip per trip.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { expectEveryStopAnalysed, expectResumedAt, expectTwoWholeTrips, nextStopState, stepBackToBack, type BackToBackRun } from '../support/bluepill';
import { boardProcesses, boardUnavailable, startBoard, vdsoSymbol, type Board } from '../support/board';
import { isAlive } from '../support/processes';
import { readElfFunctions } from '../../adapter/elf/symbols';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

describe('ARM64 board: instruction steps sent back to back through round trips', { skip: unavailable ?? false }, () => {
  let board: Board;
  let dc: RecordingClient;
  let run: BackToBackRun;
  let bluepillAddress: bigint;
  let hostSyscallAddress: bigint;
  let seconds: number;

  // -trips 3 (not the minibluepill scenario's -forever): no time.Sleep between the trips to step through.
  before(async () => {
    const program = buildFixture('minibluepill', { goarch: 'arm64' });
    const functions = readElfFunctions(program).functions;
    bluepillAddress = functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
    hostSyscallAddress = functions.find((f) => f.name === 'minibluepill/kvm.hostSyscall.abi0')!.address;
    board = await startBoard('program', { program, programArgs: ['-trips', '3'] });
    console.log(`board: dlv exec of minibluepill -trips 3 on 127.0.0.1:${board.port} after ${board.startSeconds.toFixed(1)} s`);
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    await nextStopState(dc, 0, 120_000);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const from = dc.events('bluepill/state').length;
    const started = Date.now();
    // Two whole trips (450–780 steps, 1–3 minutes on the board), then on out of kvm.bluepill back
    // into main.roundTrip; bounded in time so that the board is stopped below, not left behind
    // by the test runner's limit on the whole file.
    run = await stepBackToBack(dc, threadId, (s) => s.tripCount >= 2 && s.trips[0].complete && s.stop!.phase === 'host', { maxSteps: 1500, maxMs: 210_000, checkEvery: 10, statesFrom: from });
    seconds = (Date.now() - started) / 1000;
    console.log(`stepped ${run.stops} instructions back to back in ${seconds.toFixed(1)} s`);
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('analyses every stop, in order', () => {
    expectEveryStopAnalysed(run, 30);
    assert.equal(run.final.variant?.id, 'arm64');
  });

  it('sees every phase of both trips, and only two trips (the RET after resumed opens none)', () => expectTwoWholeTrips(run));

  it('reads the ucontext PC the guest wrote, and the host resumes there', () => expectResumedAt(run, bluepillAddress, [bluepillAddress + 4n, hostSyscallAddress]));

  it('labels the vDSO trampoline at each sigreturn, at the kernel\'s __kernel_rt_sigreturn', async () => {
    const sigreturns = run.states.filter((s) => s.stop!.phase === 'sigreturn');
    assert.equal(sigreturns.length, 4, 'both instructions of two trampolines');
    for (const s of sigreturns) assert.equal(s.stop!.symbol, '[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)');
    const pid = boardProcesses(await board.status()).find((p) => p.argv.startsWith('/bin/program'))!.pid;
    const vdso = await board.vdso(pid);
    const real = vdso.start + vdsoSymbol(vdso.image, '__kernel_rt_sigreturn');
    assert.deepEqual(sigreturns.map((s) => BigInt(s.stop!.pc)), [real, real + 4n, real, real + 4n]);
    const resumedAtSvc = run.states.find((s) => s.stop!.phase === 'resumed' && BigInt(s.stop!.pc) === hostSyscallAddress)!;
    assert.equal(resumedAtSvc.stop!.landmark?.role, 'host-syscall');
    assert.match(resumedAtSvc.diagnoses.find((d) => d.id === 'host-syscall')?.message ?? '', /getpid \(172\)/);
  });

  it('disassembles 64 instructions at the trampoline, which dlv cannot, from the proxy\'s fallback', async () => {
    const trampoline = run.states.find((s) => s.stop!.phase === 'sigreturn')!.stop!.pc;
    const dis = (await dc.customRequest('disassemble', { memoryReference: trampoline, instructionCount: 64 })) as DebugProtocol.DisassembleResponse;
    assert.equal(dis.success, true);
    const instructions = dis.body!.instructions;
    assert.equal(instructions.length, 64);
    assert.deepEqual(instructions.slice(0, 2).map((i) => i.instruction), ['MOVD $139, R8', 'SVC $0']);
    assert.deepEqual(instructions.slice(0, 2).map((i) => i.instructionBytes), ['681180d2', '010000d4']);
    instructions.forEach((ins, i) => {
      assert.equal(BigInt(ins.address), BigInt(trampoline) + 4n * BigInt(i), 'four bytes each, in order');
      assert.match(ins.instructionBytes ?? '', /^[0-9a-f]{8}$/);
    });
  });
});
