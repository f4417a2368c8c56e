// The analysis of one stop, pure: what to read for it, and what it shows.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { classify, diagnose, sameTrip, stopView, wants, type StopFacts } from '../../adapter/bluepill/stopAnalysis';
import { variantById } from '../../adapter/bluepill/model';
import { LandmarkIndex } from '../../adapter/bluepill/symbols';

const amd64 = variantById('amd64-cli');
const index = new LandmarkIndex(amd64);
const facts = (f: Partial<StopFacts>): StopFacts => ({ threadId: 1, time: 0, stepped: true, frames: ['main.main'], pc: 0x401000n, ...f });

describe('stopAnalysis', () => {
  it('reads the ucontext only in the handler\'s phases, what trapped only when trapped, the syscall number only when resumed at one', () => {
    assert.deepEqual(wants(classify(index, facts({}))), { ucontext: false, trappedInstruction: false, syscallNumber: false });
    assert.deepEqual(wants(classify(index, facts({ frames: ['minibluepill/kvm.sighandler'] }))), { ucontext: true, trappedInstruction: true, syscallNumber: false });
    assert.deepEqual(wants(classify(index, facts({ frames: ['minibluepill/kvm.bluepillGuestExit'] }))), { ucontext: true, trappedInstruction: false, syscallNumber: false });
    const resumedAtSyscall = classify(index, facts({ frames: ['minibluepill/kvm.hostSyscall'], instruction: { text: 'SYSCALL', bytes: '0f05' }, previousPhase: 'sigreturn' }));
    assert.deepEqual(wants(resumedAtSyscall), { ucontext: false, trappedInstruction: false, syscallNumber: true });
    assert.match(diagnose(amd64, resumedAtSyscall, facts({ frames: ['minibluepill/kvm.hostSyscall'] }), { syscallNumber: 39n })[0].message, /getpid \(39\)/);
  });

  it('names an unsymbolized trampoline by its label, and keeps the trip while stepping in the handler', () => {
    const f = facts({ frames: ['???'], instruction: { bytes: '48c7c00f000000' }, previousPhase: 'guest-exit', trampoline: true });
    const view = stopView(7, amd64, classify(index, f), f);
    assert.equal(view.phase, 'sigreturn');
    assert.equal(view.symbol, '[anonymous] rt_sigreturn trampoline (mov rax, 15; syscall)');
    assert.equal(view.index, 7);
    assert.equal(sameTrip(f), true);
    assert.equal(sameTrip({ ...f, stepped: false }), false, 'a continue may have left the trip');
  });

  it('says a stop\'s code runs in the guest only as gVisor\'s source does: bluepillArchEnter is host code, SwitchToUser is not', () => {
    const at = (frame: string) => {
      const f = facts({ frames: [frame] });
      return stopView(1, amd64, classify(index, f), f).landmark;
    };
    // The landmark list used to call bluepillArchEnter guest code; the generated table says the host's signal handler runs it.
    assert.equal(at('gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillArchEnter')?.runsInGuest, false);
    assert.equal(at('gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser')?.runsInGuest, true);
    assert.equal(at('gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillGuestExit')?.runsInGuest, false);
  });
});

describe('a vCPU kicked out of KVM_RUN', () => {
  it('is read only in a call bluepillHandler made, and shown as kicked out when KVM_RUN returned EINTR', () => {
    const variant = variantById('amd64-sigframe');
    const idx = new LandmarkIndex(variant);
    const kvm = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';
    const f = facts({ frames: ['gvisor.dev/gvisor/pkg/hostsyscall.RawSyscallErrno', `${kvm}.bluepillHandler`, `${kvm}.bluepillUserHandler`], previousPhase: undefined, stepped: false });
    const c = classify(idx, f);
    assert.equal(c.phase, 'in-guest');
    assert.deepEqual(wants(c, variant, f).kvmRun, ['RAX', 'RSI']);
    assert.equal(wants(classify(idx, facts({ frames: [`${kvm}.bluepillHandler`] })), variant, f).kvmRun, undefined, 'bluepillHandler itself makes no system call at its PC');
    const read = { kvmRun: { result: 0xfffffffffffffffcn, request: 0xae80n } };
    assert.equal(stopView(1, variant, c, f, read).mode, 'host: kicked out of KVM_RUN (EINTR), not running the guest now');
    assert.equal(diagnose(variant, c, f, read)[0]?.id, 'vcpu-kicked-out');
    assert.match(stopView(1, variant, c, f, { kvmRun: { result: 0n, request: 0xae80n } }).mode, /^guest/, 'KVM_RUN that returned 0 is no kick');
    assert.equal(diagnose(variant, c, f, { kvmRun: { result: 0xfffffffffffffffcn, request: 0xae9an } }).length, 0, 'EINTR from another ioctl is no kick');
  });
});

describe('a stopped vCPU thread is never shown running the guest', () => {
  it('with its registers unread, the mode says so instead', () => {
    const variant = variantById('amd64-sigframe');
    const kvm = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';
    const f = facts({ frames: ['gvisor.dev/gvisor/pkg/hostsyscall.RawSyscallErrno', `${kvm}.bluepillHandler`], stepped: false });
    const c = classify(new LandmarkIndex(variant), f);
    assert.match(stopView(1, variant, c, f, { kvmRun: {} }).mode, /^host: stopped in a system call of bluepillHandler \(its registers could not be read\)/);
  });
});
