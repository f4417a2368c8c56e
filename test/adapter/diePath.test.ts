// gVisor's die path, live on amd64: minibluepill dies the way dieAndDumpExitReason makes a vCPU
// die (the exit in R9–R14, the PC set to the marker 0xabc after sigreturn, inside entersyscall).
// dlv stops in the Go runtime's fatalsignal with the marker three frames down; the proxy reads
// R9–R14 from the ucontext the runtime's handler got and says why the vCPU died.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, minibluepillDieExit } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { nextStopState } from '../support/bluepill';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { KVM_EXIT_REASONS } from '../../adapter/bluepill/dieMarkers';

describe('gVisor\'s die path on amd64 (minibluepill -die-with-exit-reason, live)', () => {
  let dc: RecordingClient;
  const before_ = dlvPids();

  before(async () => {
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program: buildFixture('minibluepill'), args: ['-die-with-exit-reason'] });
  });
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('at dlv\'s fatal-signal stop, the vCPU\'s exit is read from the ucontext and said in words', async () => {
    const program = buildFixture('minibluepill');
    const trap = readElfFunctions(program).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!;
    const exit = minibluepillDieExit();
    const states = dc.events('bluepill/state').length;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const body = ((await stopped) as DebugProtocol.StoppedEvent).body;
    assert.equal(body.reason, 'exception', 'dlv stops on the fatal signal');
    const frames = (await dc.stackTraceRequest({ threadId: body.threadId!, levels: 6 })).body.stackFrames;
    assert.ok(frames.some((f) => f.instructionPointerReference === '0xabc'), `the marker is a frame of dlv's stack: ${frames.map((f) => `${f.name} ${f.instructionPointerReference}`).join(', ')}`);
    const state = await nextStopState(dc, states);
    assert.equal(state.stop!.symbol, 'runtime.fatalsignal');
    const died = state.diagnoses.find((d) => d.id === 'vcpu-died');
    assert.ok(died, `a vcpu-died diagnosis (got ${JSON.stringify(state.diagnoses)})`);
    const [reason, ...data] = exit;
    assert.ok(died.message.startsWith(`vCPU died: exit reason ${KVM_EXIT_REASONS[Number(reason)]} (${reason}), data ${data.map((d) => `0x${d.toString(16)}`).join(' ')}, at PC 0x${trap.address.toString(16)} (minibluepill/kvm.bluepill)`), died.message);
  });
});
