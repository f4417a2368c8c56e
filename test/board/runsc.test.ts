// Live on ARM64 with real gVisor: inside the emulated board (whose CPU has EL2, so
// /dev/kvm works), runsc --platform=kvm runs a busybox shell that keeps sleeping;
// the board's dlv attaches to runsc-sandbox, and the host follows a real bluepill
// round trip through the proxy: guest exit, the vDSO's rt_sigreturn, resumed.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { nextStopState, phaseSequence, stepInstruction } from '../support/bluepill';
import { boardUnavailable, expectKeepsRunning, startBoard, vdsoSymbol, type Board } from '../support/board';
import { isAlive } from '../support/processes';
import { GVISOR_VERSION } from '../support/runsc';
import type { BluepillState } from '../../adapter/bluepill/state';

const KVM_PACKAGE = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';

/** Starts the runsc board; a failure of runsc itself (not of the board) is a reason to skip, said plainly. */
async function startRunscBoard(): Promise<{ board?: Board; skip?: string }> {
  try {
    return { board: await startBoard('runsc') };
  } catch (e) {
    const why = /\[board\] scenario runsc failed: (.*)/.exec(String(e));
    if (!why) throw e;
    return { skip: `runsc --platform=kvm cannot run in the ARM64 board: ${why[1]}\n${String(e)}` };
  }
}

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

describe(`ARM64 board: runsc ${GVISOR_VERSION} --platform=kvm, live, through the proxy`, { skip: unavailable ?? false }, () => {
  let board: Board | undefined;
  let skip: string | undefined;
  let dc: RecordingClient;
  let threadId: number;
  let sandboxPid: number;
  const seen: BluepillState[] = [];

  // A cold first run builds the board here (and runsc for two architectures, if no suite has yet).
  before(async () => {
    ({ board, skip } = await startRunscBoard());
    if (skip) {
      console.log(`skipped: ${skip.split('\n')[0]}`);
      console.log(skip);
      return;
    }
    sandboxPid = Number(/runsc-sandbox is pid (\d+)/.exec(board!.console())![1]);
    console.log(`board: runsc-sandbox pid ${sandboxPid}, dlv on 127.0.0.1:${board!.port} after ${board!.startSeconds.toFixed(1)} s`);
    dc = await proxyClient();
    // dlv on the emulated board reads runsc's symbols before it answers attach: slow under software emulation.
    dc.defaultTimeout = 120_000;
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board!.port });
  }, { timeout: 40 * 60_000 });
  after(async () => {
    await dc?.stop().catch(() => undefined);
    await board?.stop();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('runs the sandbox on the board\'s /dev/kvm', async (t) => {
    if (skip) return t.skip(skip.split('\n')[0]);
    const logs = await board!.runscLogs();
    assert.match(logs, /Platform: kvm/, 'runsc boot log names the KVM platform');
    assert.match(logs, /kvm VM created/, 'runsc created its VM on the board\'s /dev/kvm');
    assert.match(board!.console(), /\[runsc\] workload running/, 'the busybox workload runs inside the sandbox');
  });

  it('stops a vCPU thread in bluepillGuestExit, after a real KVM_RUN', async (t) => {
    if (skip) return t.skip(skip.split('\n')[0]);
    // Host-only code: bluepillGuestExit runs in the signal handler, after KVM_RUN returned.
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `${KVM_PACKAGE}.bluepillGuestExit` }] });
    const stopped = dc.waitForEvent('stopped', 120_000);
    await dc.configurationDoneRequest();
    threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    const state = await nextStopState(dc, 0, 60_000);
    seen.push(state);
    assert.equal(state.variant?.id, 'arm64');
    assert.equal(state.stop!.phase, 'guest-exit');
    assert.equal(state.stop!.symbol, 'kvm.bluepillGuestExit');
    // The signal context the kernel saved when the thread trapped on the host.
    assert.equal(state.ucontext!.mode, 'EL0t');
    assert.equal(state.ucontext!.host, true);
    const names = (await dc.stackTraceRequest({ threadId, levels: 8 })).body.stackFrames.map((f) => f.name);
    assert.ok(names.includes('kvm.bluepillHandler'), names.join(' < '));
    assert.ok(names.includes('kvm.sighandler'), names.join(' < '));
    const below = names[names.indexOf('kvm.sighandler') + 1];
    assert.equal(below, '[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)', 'the handler returns into the vDSO trampoline');
  });

  it('steps through the vDSO rt_sigreturn and resumes where the guest stopped', async (t) => {
    if (skip) return t.skip(skip.split('\n')[0]);
    // A live sandbox: now and then another signal reaches the thread just as it returns, and a
    // new trip starts before this one shows "resumed". Then the next guest exit is followed.
    for (let attempt = 1; ; attempt++) {
      let state = seen.at(-1)!;
      const trip: BluepillState[] = [state];
      // bluepillGuestExit copies the registers (bluepillArchExit), then the handler unwinds: ~160 instructions.
      for (let i = 0; i < 600 && state.stop!.phase !== 'sigreturn'; i++) trip.push((state = await stepInstruction(dc, threadId)));
      assert.equal(state.stop!.phase, 'sigreturn');
      const vdso = await board!.vdso(sandboxPid);
      const frame = (await dc.stackTraceRequest({ threadId, levels: 2 })).body.stackFrames[0];
      assert.equal(frame.name, '[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)');
      assert.equal(BigInt(frame.instructionPointerReference!), vdso.start + vdsoSymbol(vdso.image, '__kernel_rt_sigreturn'));
      const exitPc = state.ucontext!.pc;

      for (let i = 0; i < 5 && (state.stop!.phase as string) !== 'resumed'; i++) trip.push((state = await stepInstruction(dc, threadId)));
      if ((state.stop!.phase as string) !== 'resumed' && attempt < 3) {
        console.log(`attempt ${attempt}: ${phaseSequence(trip).join(' → ')} at ${state.stop!.symbol}; following the next guest exit`);
        const before = dc.events('bluepill/state').length;
        const stopped = dc.waitForEvent('stopped', 120_000);
        await dc.continueRequest({ threadId });
        threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
        const next = await nextStopState(dc, before, 60_000);
        assert.equal(next.stop!.phase, 'guest-exit');
        seen.push(next);
        continue;
      }
      assert.equal(state.stop!.phase, 'resumed');
      assert.equal(state.stop!.pc, exitPc, 'the host resumed at the exit PC bluepillGuestExit wrote');
      // Where a guest exit leaves the host: a system call it makes for the guest, or the next trap.
      assert.ok(['host-syscall', 'kernel-exit', 'guest-only-trap', 'trap-instruction'].includes(state.stop!.landmark?.role ?? ''), `resumed at ${state.stop!.symbol}: ${state.stop!.instruction}`);
      console.log(`resumed at ${state.stop!.pc} in ${state.stop!.symbol} (${state.stop!.instruction}); ${state.diagnoses.map((d) => d.message).join(' ')}`);
      assert.deepEqual(phaseSequence(trip), ['guest-exit', 'sigreturn', 'resumed']);
      const record = state.trips.find((tr) => tr.threadId === threadId && tr.exitPc === exitPc)!;
      assert.equal(record.complete, true);
      seen.push(...trip.slice(1));
      return;
    }
  });

  it('keeps the sandbox running once the client lets go', async (t) => {
    if (skip) return t.skip(skip.split('\n')[0]);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.continueRequest({ threadId });
    await dc.disconnectRequest({});
    await expectKeepsRunning(board!, 'runsc-sandbox');
  });
});
