// Every stop counts: a client that steps by instruction as fast as dlv answers (a
// held F11, an nvim-dap script) through whole round trips of minibluepill, on the
// stdio adapter with the pinned dlv. Each stop must be classified and recorded, in
// order: every phase, the ucontext PC and the trampoline's label, one trip per trip.
// Twice: with dlv spawned by the adapter (host code read from the kernel where it can be),
// and with a dlv the adapter reaches over the network (every stop read from dlv, steps
// pipelined behind the tracker's one read where the next PCs are known).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { dlvDapServer, openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { expectEveryStopAnalysed, expectResumedAt, expectTwoWholeTrips, nextStopState, stepBackToBack, type BackToBackRun } from '../support/bluepill';
import { readElfFunctions } from '../../adapter/elf/symbols';

const RUNS = [
  { where: 'local', inPairs: false },
  { where: 'remote', inPairs: false },
  // A client that queues its steps: each one's successor goes before it has stopped (dlv runs both).
  { where: 'local', inPairs: true },
] as const;

for (const { where, inPairs } of RUNS) {
  describe(`instruction steps sent ${inPairs ? 'in pairs, the second before the first stopped,' : 'back to back'} through round trips (amd64, live, ${where} dlv)`, () => {
    let dc: RecordingClient;
    let server: Awaited<ReturnType<typeof dlvDapServer>> | undefined;
    let run: BackToBackRun;
    let bluepillAddress: bigint;
    let hostSyscallAddress: bigint;
    const before_ = dlvPids();

    before(async () => {
      const program = buildFixture('minibluepill');
      const functions = readElfFunctions(program).functions;
      bluepillAddress = functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
      hostSyscallAddress = functions.find((f) => f.name === 'minibluepill/kvm.hostSyscall.abi0')!.address;
      dc = await proxyClient();
      const remote = where === 'remote' ? { host: '127.0.0.1', port: (server = await dlvDapServer()).port } : {};
      await openSession(dc, 'launch', { mode: 'exec', program, args: ['-trips', '3'], ...remote });
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }] });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
      await nextStopState(dc, 0);
      await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      const from = dc.events('bluepill/state').length;
      // Two whole trips, then on out of kvm.bluepill back into main.roundTrip's caller.
      run = await stepBackToBack(dc, threadId, (s) => s.tripCount >= 2 && s.trips[0].complete && s.stop!.phase === 'host', { maxSteps: 3000, statesFrom: from, inPairs, checkEvery: inPairs ? 1 : undefined });
    });
    after(async () => {
      await dc.stop();
      await server?.stop();
      await expectNoNewDlv(before_);
    });

    it('analyses every stop, in order', () => {
      expectEveryStopAnalysed(run, 50);
    });

    it('sees every phase of both trips, and only two trips (the rest of kvm.bluepill opens none)', () => expectTwoWholeTrips(run));

    it('reads the ucontext PC the guest wrote, and the host resumes there', () => expectResumedAt(run, bluepillAddress, [bluepillAddress + 1n, hostSyscallAddress]));

    it('labels the trampoline at each sigreturn', () => {
      const sigreturns = run.states.filter((s) => s.stop!.phase === 'sigreturn');
      assert.ok(sigreturns.length >= 4, 'both instructions of two trampolines');
      for (const s of sigreturns) assert.equal(s.stop!.symbol, '[anonymous] rt_sigreturn trampoline (mov rax, 15; syscall)');
      const resumedAtSyscall = run.states.find((s) => s.stop!.phase === 'resumed' && BigInt(s.stop!.pc) === hostSyscallAddress)!;
      assert.match(resumedAtSyscall.diagnoses.find((d) => d.id === 'host-syscall')?.message ?? '', /getpid \(39\)/);
    });
  });
}
