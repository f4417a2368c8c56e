// The round trip, live on amd64: minibluepill traps with CLI (SIGSEGV), runs its
// handler, "enters the guest", rewrites the ucontext and returns through an
// anonymous rt_sigreturn trampoline, under the pinned dlv, through the proxy.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { continueTo, nextStopState, phaseSequence, stepInstruction } from '../support/bluepill';
import { readElfFunctions } from '../../adapter/elf/symbols';
import type { BluepillState } from '../../adapter/bluepill/state';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), `waited 2 s for ${what}`);
}

describe('bluepill round trip on amd64 (minibluepill, live)', () => {
  let dc: RecordingClient;
  let program: string;
  let threadId: number;
  let bluepillAddress: bigint;
  let hostSyscallAddress: bigint;
  const seen: BluepillState[] = [];
  const before_ = dlvPids();

  before(async () => {
    program = buildFixture('minibluepill');
    const functions = readElfFunctions(program).functions;
    bluepillAddress = functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
    hostSyscallAddress = functions.find((f) => f.name === 'minibluepill/kvm.hostSyscall.abi0')!.address;
    dc = await proxyClient();
    await openSession(dc, 'launch', { mode: 'exec', program, args: ['-trips', '4'] });
  });
  after(async () => {
    await dc.stop();
    await expectNoNewDlv(before_);
  });

  it('warns about a breakpoint in code that runs in the guest, once', async () => {
    const bps = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }, { name: 'minibluepill/kvm.kvmRun' }] });
    assert.equal(bps.body.breakpoints[0].message, undefined, 'main.roundTrip is host code');
    const lines = await dc.setBreakpointsRequest({ source: { path: program.replace(/bin\/minibluepill$/, 'kvm/bluepill.go') }, breakpoints: [] });
    assert.equal(lines.success, true);
    // The host side of the round trip (gVisor's bluepillGuestExit runs in the signal handler) is no guest code.
    const host = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }, { name: 'minibluepill/kvm.bluepillGuestExit' }] });
    assert.equal(host.body.breakpoints[1].message, undefined, 'kvm.bluepillGuestExit runs on the host');
    const guest = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }, { name: 'minibluepill/kvm.bluepill' }] });
    assert.match(guest.body.breakpoints[1].message ?? '', /^kvm\.bluepill runs in guest mode as well as on the host \(/);
    await until(() => dc.events('bluepill/warning').length > 0, 'a bluepill/warning event');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }, { name: 'minibluepill/kvm.bluepill' }, { name: 'minibluepill/kvm.kvmRun' }] });
    // The breakpoints the round trip below relies on (none on kvm.bluepill, whose trap the test steps through).
    const again = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.roundTrip' }, { name: 'minibluepill/kvm.bluepillGuestExit' }, { name: 'minibluepill/kvm.kvmRun' }] });
    assert.equal(again.body.breakpoints[1].message, undefined);
    assert.equal(dc.events('bluepill/warning').length, 1, 'one notification per session');
  });

  it('steps into the trap and lands in the handler with the ucontext decoded', async () => {
    const before = dc.events('bluepill/state').length;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    let state = await nextStopState(dc, before);
    seen.push(state);
    assert.equal(state.stop!.phase, 'host');
    assert.equal(state.variant?.id, 'amd64-cli');
    for (let i = 0; i < 30 && (state.stop!.phase as string) !== 'trapped'; i++) seen.push((state = await stepInstruction(dc, threadId)));
    assert.equal(state.stop!.phase, 'trapped');
    assert.equal(state.stop!.symbol, 'kvm.sighandler');
    const entering = seen.find((s) => s.stop!.phase === 'entering')!;
    assert.equal(entering.stop!.instruction, 'CLI');
    assert.equal(BigInt(entering.stop!.pc), bluepillAddress);
    // The context the kernel saved: the PC of the CLI, user mode.
    assert.equal(BigInt(state.ucontext!.pc), bluepillAddress);
    assert.match(state.ucontext!.pcSymbol ?? '', /kvm\.bluepill$/);
    assert.match(state.ucontext!.mode, /^ring 3 \(CS 0x33\)$/);
    assert.equal(state.ucontext!.host, true);
    // uc_sigmask, read with the registers (byte 296 on amd64): the mask of the interrupted Go code,
    // which the Go runtime runs with no signal blocked.
    assert.equal(state.ucontext!.sigmask, '0x0');
    assert.equal(state.ucontext!.sigmaskSummary, 'none blocked');
  });

  it('follows the thread into the guest and out again, to the exit PC', async () => {
    let state = await continueTo(dc, threadId);
    seen.push(state);
    assert.equal(state.stop!.phase, 'in-guest', `stopped at kvm.kvmRun (KVM_RUN): ${JSON.stringify(state.stop)}`);
    assert.equal(state.stop!.mode.startsWith('guest'), true);
    state = await continueTo(dc, threadId);
    seen.push(state);
    assert.equal(state.stop!.phase, 'guest-exit');
    for (let i = 0; i < 120 && state.stop!.phase !== 'resumed'; i++) seen.push((state = await stepInstruction(dc, threadId)));
    assert.equal(state.stop!.phase, 'resumed');

    const sigreturn = seen.filter((s) => s.stop!.phase === 'sigreturn');
    assert.ok(sigreturn.length >= 1);
    assert.match(sigreturn[0].stop!.symbol, /rt_sigreturn trampoline/);
    // The exit PC the guest "wrote" is where the thread resumed.
    assert.equal(state.stop!.pc, sigreturn[0].ucontext!.pc);
    assert.equal(BigInt(state.stop!.pc), bluepillAddress + 1n, 'odd trips resume right after the CLI');
    assert.deepEqual(phaseSequence(seen), ['host', 'entering', 'trapped', 'in-guest', 'guest-exit', 'sigreturn', 'resumed']);
    assert.equal(state.guestExits, 1);
    assert.equal(state.trips[0].complete, true);
    assert.deepEqual(state.trips[0].stops.map((s) => s.phase), ['entering', 'trapped', 'in-guest', 'guest-exit', 'sigreturn', 'resumed']);
  });

  it('labels the trampoline in the stack and disassembles it, which dlv alone cannot', async () => {
    // Next trip: stop at the guest exit, then step to the trampoline.
    let state = await continueTo(dc, threadId); // main.roundTrip
    state = await continueTo(dc, threadId); // kvmRun
    state = await continueTo(dc, threadId); // bluepillGuestExit
    assert.equal(state.stop!.phase, 'guest-exit');
    for (let i = 0; i < 120 && (state.stop!.phase as string) !== 'sigreturn'; i++) state = await stepInstruction(dc, threadId);
    const stack = await dc.stackTraceRequest({ threadId, levels: 5 });
    assert.match(stack.body.stackFrames[0].name, /^\[anonymous\] rt_sigreturn trampoline/);
    const dis = (await dc.customRequest('disassemble', { memoryReference: stack.body.stackFrames[0].instructionPointerReference, instructionCount: 2 })) as DebugProtocol.DisassembleResponse;
    assert.deepEqual(dis.body!.instructions.map((i) => i.instruction), ['MOVQ $15, AX', 'SYSCALL']);
    assert.equal(dis.body!.instructions[0].instructionBytes, '48c7c00f000000');
    // As many as VS Code's Disassembly view asks for: more than one evaluate of dlv's (64 elements) holds.
    const wide = (await dc.customRequest('disassemble', { memoryReference: stack.body.stackFrames[0].instructionPointerReference, instructionCount: 400 })) as DebugProtocol.DisassembleResponse;
    assert.equal(wide.body!.instructions.length, 400);
    assert.deepEqual(wide.body!.instructions.slice(0, 2).map((i) => i.instruction), ['MOVQ $15, AX', 'SYSCALL']);
    assert.equal(wide.body!.instructions.reduce((n, i) => n + i.instructionBytes!.length / 2, 0), 7 + 2 + 398, 'two instructions, then the page\'s zero bytes one by one');

    // This (even) trip resumes at kvm.hostSyscall's SYSCALL: the host runs getpid for the guest.
    for (let i = 0; i < 5 && (state.stop!.phase as string) !== 'resumed'; i++) state = await stepInstruction(dc, threadId);
    assert.equal(state.stop!.phase, 'resumed');
    assert.equal(BigInt(state.stop!.pc), hostSyscallAddress);
    assert.equal(state.stop!.landmark?.role, 'host-syscall');
    const diagnosis = state.diagnoses.find((d) => d.id === 'host-syscall');
    assert.match(diagnosis?.message ?? '', /executes getpid \(39\) for the guest \(RAX = 39\)/);
    assert.equal(state.guestExits, 2);
    assert.equal(state.tripCount, 2);
  });

  it('explains a PC inside the session, by frame and by address', async () => {
    const stack = await dc.stackTraceRequest({ threadId, levels: 3 });
    const byFrame = (await dc.customRequest('bluepill/explain', { frameId: stack.body.stackFrames[0].id })) as DebugProtocol.Response;
    const e = byFrame.body as { where: string; landmark?: { role: string }; instruction?: string; origin: string };
    assert.equal(e.where, 'minibluepill/kvm.hostSyscall');
    assert.equal(e.instruction, 'SYSCALL');
    assert.equal(e.landmark?.role, 'host-syscall');
    assert.equal(e.origin, 'the debug session (dlv)');
    const byAddress = (await dc.customRequest('bluepill/explain', { address: `0x${bluepillAddress.toString(16)}` })) as DebugProtocol.Response;
    assert.equal((byAddress.body as { landmark?: { role: string } }).landmark?.role, 'trap-instruction');
    const bad = await dc.request('bluepill/explain', { address: 'zz' });
    assert.equal(bad.success, false);
    assert.match((bad as DebugProtocol.ErrorResponse).body!.error!.format, /an address in hex, at most 16 digits/);
  });

  it('a resume dlv refuses leaves the thread stopped, and the state says so', async () => {
    const before = (await dc.customRequest('bluepill/getState')).body as BluepillState;
    assert.equal(before.running, false);
    // dlv 1.27.2 has no goto: the request fails, and the thread never moved.
    const refused = await dc.request('goto', { threadId, targetId: 1 });
    assert.equal(refused.success, false);
    const after = (await dc.customRequest('bluepill/getState')).body as BluepillState;
    assert.equal(after.running, false, 'not running after a refused resume');
    assert.equal(after.stop?.index, before.stop?.index, 'the same stop');
  });

  it('answers bluepill/getState with the latest state, and ends it with the session', async () => {
    const latest = (await dc.customRequest('bluepill/getState')) as DebugProtocol.Response;
    assert.equal((latest.body as BluepillState).stop?.phase, 'resumed');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId });
    await terminated;
    await new Promise((r) => setTimeout(r, 100));
    const last = dc.events('bluepill/state').at(-1)!.body as BluepillState;
    assert.equal(last.ended, true);
  });
});
