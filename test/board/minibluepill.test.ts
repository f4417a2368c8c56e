// Live on ARM64: minibluepill runs under dlv inside the emulated board (a real
// ARM64 kernel, its real vDSO), and the host debugs it through the proxy in
// remote mode, instruction by instruction through a whole round trip.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { continueTo, nextStopState, phaseSequence, stepInstruction } from '../support/bluepill';
import { boardProcesses, boardUnavailable, expectKeepsRunning, startBoard, vdsoSymbol, type Board } from '../support/board';
import { isAlive } from '../support/processes';
import { readElfFunctions } from '../../adapter/elf/symbols';
import type { BluepillState } from '../../adapter/bluepill/state';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

describe('ARM64 board: minibluepill under dlv in the board, through the proxy', { skip: unavailable ?? false }, () => {
  let board: Board;
  let dc: RecordingClient;
  let threadId: number;
  let bluepillAddress: bigint;
  let sighandlerAddress: bigint;
  const seen: BluepillState[] = [];

  // A cold first run builds the board here (and runsc for two architectures, if no suite has yet).
  before(async () => {
    board = await startBoard('minibluepill');
    console.log(`board: dlv on 127.0.0.1:${board.port} after ${board.startSeconds.toFixed(1)} s`);
    const functions = readElfFunctions(board.minibluepill).functions;
    bluepillAddress = functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
    sighandlerAddress = functions.find((f) => f.name === 'minibluepill/kvm.sighandler.abi0')!.address;
    dc = await proxyClient();
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port });
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('stops in main.roundTrip on the board and knows it is ARM64', async () => {
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }, { name: 'minibluepill/kvm.kvmRun' }, { name: 'minibluepill/kvm.bluepillGuestExit' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    const state = await nextStopState(dc, 0);
    seen.push(state);
    assert.equal(state.variant?.id, 'arm64');
    assert.equal(state.stop!.symbol, 'main.roundTrip');
    assert.equal(state.stop!.phase, 'host');
  });

  it('disassembles the trap as MRS TPIDR_EL1, R10, keeping the raw operand', async () => {
    const dis = (await dc.customRequest('disassemble', { memoryReference: `0x${bluepillAddress.toString(16)}`, instructionCount: 2 })) as DebugProtocol.DisassembleResponse;
    const mrs = dis.body!.instructions[0];
    assert.equal(mrs.instruction, 'MRS TPIDR_EL1, R10  // $18052 · EL1 only');
    assert.equal(mrs.instructionBytes, '8ad038d5');
    assert.equal(BigInt(mrs.address), bluepillAddress);
  });

  it('steps the MRS and lands in kvm.sighandler, not on the next instruction', async () => {
    // A handful of instructions lead from main.roundTrip to the MRS. But a signal the Go
    // runtime had pending (sysmon's preemption SIGURG: a trip under an emulated CPU is
    // slow) is delivered on a step, and the steps then go through the runtime's handler
    // and scheduler, thousands of instructions. Only then is the MRS reached by an
    // instruction breakpoint; a path that stays in the fixture's code must reach it.
    let state = seen.at(-1)!;
    const path: string[] = [];
    for (let i = 0; i < 40 && state.stop!.phase !== 'entering'; i++) {
      seen.push((state = await stepInstruction(dc, threadId)));
      if (path.at(-1) !== state.stop!.symbol) path.push(state.stop!.symbol || state.stop!.pc);
    }
    console.log(`stepped from main.roundTrip through: ${path.join(' → ')}`);
    if (state.stop!.phase !== 'entering' && path.some((s) => s.startsWith('runtime.'))) {
      console.log('a signal was delivered on a step: continuing to an instruction breakpoint on the MRS');
      await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: `0x${bluepillAddress.toString(16)}` }] });
      seen.push((state = await continueTo(dc, threadId)));
      await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
    }
    assert.equal(state.stop!.phase, 'entering', `stepped through ${path.join(' → ')}`);
    assert.equal(BigInt(state.stop!.pc), bluepillAddress);
    assert.equal(state.stop!.instruction, 'MRS $18052, R10', 'dlv itself prints the raw operand');
    seen.push((state = await stepInstruction(dc, threadId)));
    assert.equal(state.stop!.phase, 'trapped');
    assert.equal(state.stop!.symbol, 'kvm.sighandler');
    assert.equal(BigInt(state.stop!.pc), sighandlerAddress);
  });

  it('reads the ucontext at R2, its PC at offset 440, and decodes PSTATE', async () => {
    const state = seen.at(-1)!;
    const frameId = (await dc.stackTraceRequest({ threadId, levels: 1 })).body.stackFrames[0].id;
    const evaluate = async (expression: string) => BigInt(/0x[0-9a-f]+/.exec((await dc.evaluateRequest({ expression, frameId, context: 'watch' })).body.result)![0]);
    const r2 = await evaluate('X2'); // dlv names it X2; Go's assembler R2
    assert.equal(BigInt(state.ucontext!.address), r2, 'the ucontext is the handler\'s third argument');
    const pcAt440 = await evaluate(`*(*uint64)(uintptr(0x${(r2 + 440n).toString(16)}))`);
    assert.equal(BigInt(state.ucontext!.pc), pcAt440);
    assert.equal(pcAt440, bluepillAddress, 'the kernel saved the PC of the MRS');
    const pstate = await evaluate(`*(*uint64)(uintptr(0x${(r2 + 176n + 272n).toString(16)}))`);
    assert.equal(BigInt(state.ucontext!.flags), pstate);
    assert.equal(pstate & 0xfn, 0n, 'PSTATE.M is EL0t');
    assert.equal(state.ucontext!.mode, 'EL0t');
    assert.match(state.ucontext!.flagsSummary ?? '', /^EL0t · NZCV/);
    assert.equal(state.ucontext!.host, true);
  });

  it('labels the real kernel\'s vDSO __kernel_rt_sigreturn as [vdso], at its real address', async () => {
    let state = await continueTo(dc, threadId);
    seen.push(state);
    assert.equal(state.stop!.phase, 'in-guest');
    seen.push((state = await continueTo(dc, threadId)));
    assert.equal(state.stop!.phase, 'guest-exit');
    for (let i = 0; i < 150 && state.stop!.phase !== 'sigreturn'; i++) seen.push((state = await stepInstruction(dc, threadId)));
    assert.equal(state.stop!.phase, 'sigreturn');

    const pid = boardProcesses(await board.status()).find((p) => p.argv.startsWith('/bin/minibluepill'))!.pid;
    const vdso = await board.vdso(pid);
    const real = vdso.start + vdsoSymbol(vdso.image, '__kernel_rt_sigreturn');
    const frame = (await dc.stackTraceRequest({ threadId, levels: 3 })).body.stackFrames[0];
    assert.equal(frame.name, '[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)');
    assert.equal(BigInt(frame.instructionPointerReference!), real, `the frame is at the kernel's __kernel_rt_sigreturn (vDSO at 0x${vdso.start.toString(16)})`);
    assert.equal(state.stop!.symbol, frame.name);
    const dis = (await dc.customRequest('disassemble', { memoryReference: frame.instructionPointerReference, instructionCount: 2 })) as DebugProtocol.DisassembleResponse;
    assert.deepEqual(dis.body!.instructions.map((i) => i.instruction), ['MOVD $139, R8', 'SVC $0']);
  });

  it('resumes at the exit PC, with the phases in order', async () => {
    let state = seen.at(-1)!;
    for (let i = 0; i < 5 && state.stop!.phase !== 'resumed'; i++) seen.push((state = await stepInstruction(dc, threadId)));
    assert.equal(state.stop!.phase, 'resumed');
    const sigreturn = seen.find((s) => s.stop!.phase === 'sigreturn')!;
    assert.equal(state.stop!.pc, sigreturn.ucontext!.pc, 'resumed where bluepillGuestExit said');
    assert.equal(BigInt(state.stop!.pc), bluepillAddress + 4n, 'the first trip resumes after the MRS');
    assert.deepEqual(phaseSequence(seen), ['host', 'entering', 'trapped', 'in-guest', 'guest-exit', 'sigreturn', 'resumed']);
    assert.equal(state.trips[0].complete, true);
    assert.deepEqual(state.trips[0].stops.map((s) => s.phase), ['entering', 'trapped', 'in-guest', 'guest-exit', 'sigreturn', 'resumed']);
  });

  it('keeps running in the board once the client lets go', async () => {
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.continueRequest({ threadId });
    await dc.disconnectRequest({});
    await expectKeepsRunning(board, '/bin/minibluepill');
  });
});
