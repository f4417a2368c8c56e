// The classifier on the notes' own sequence: the addresses and symbols an engineer
// saw stepping one thread through two bluepill round trips on a Raspberry Pi 4
// (../shared/seed, summarised in PRIMER.md). Each row is one stop, in order.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { classifyStop } from '../../adapter/bluepill/classify';
import { variantById, type Phase } from '../../adapter/bluepill/model';
import { LandmarkIndex, shortName } from '../../adapter/bluepill/symbols';

const KVM = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';
const RING0 = 'gvisor.dev/gvisor/pkg/ring0';
const switchStack = [`${RING0}.(*CPU).SwitchToUser`, `${KVM}.(*vCPU).SwitchToUser`, `${KVM}.(*context).Switch`, 'gvisor.dev/gvisor/pkg/sentry/kernel.(*runApp).execute'];

// [pc, frames (top first), instruction text, bytes (memory order), expected phase, expected role]
const notes: Array<[string, string[], string | undefined, string | undefined, Phase, string | undefined]> = [
  ['0x951d5c', switchStack, 'CALL gvisor.dev/gvisor/pkg/ring0.kernelExitToEl0(SB)', '91000094', 'host', 'switch-to-user'],
  // ring0's guest-only MRS TPIDR_EL1, R18, running on the host: it will trap, but it is not the bluepill.
  ['0x951fa0', [`${RING0}.kernelExitToEl0`, ...switchStack], 'MRS $18052, R18', '92d038d5', 'entering', 'guest-only-trap'],
  ['0x95c700', [`${KVM}.sighandler`, '???'], 'MOVD 0(R1), R7', undefined, 'trapped', 'sighandler'],
  ['0x954f10', [`${KVM}.bluepillHandler`, `${KVM}.sighandler`], undefined, undefined, 'in-guest', 'bluepill-handler'],
  ['0x954e20', [`${KVM}.bluepillGuestExit`, `${KVM}.bluepillHandler`, `${KVM}.sighandler`], undefined, undefined, 'guest-exit', 'guest-exit'],
  ['0x95c734', [`${KVM}.sighandler`], 'RET', 'c0035fd6', 'guest-exit', 'sighandler'],
  ['0xffffb00ba7dc', ['???'], undefined, '681180d2', 'sigreturn', 'trampoline'],
  ['0xffffb00ba7e0', ['???'], undefined, '010000d4', 'sigreturn', 'trampoline'],
  ['0x7f41c', ['runtime.futex', 'runtime.futexsleep'], 'SVC $0', '010000d4', 'resumed', 'host-syscall'],
  ['0x432e8', ['runtime.futexsleep', 'runtime.notesleep'], undefined, undefined, 'host', undefined],
  ['0x95c6c0', [`${KVM}.bluepill`, `${KVM}.(*vCPU).SwitchToUser`], 'MOVD 8(RSP), R8', undefined, 'entering', 'bluepill'],
  ['0x95c6d8', [`${KVM}.bluepill`, `${KVM}.(*vCPU).SwitchToUser`], 'MRS $18052, R10', '8ad038d5', 'entering', 'trap-instruction'],
  ['0x95c700', [`${KVM}.sighandler`], undefined, undefined, 'trapped', 'sighandler'],
  ['0x95c728', [`${KVM}.sighandler`], 'CALL gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillHandler(SB)', undefined, 'trapped', 'sighandler'],
  ['0x954f10', [`${KVM}.bluepillHandler`, `${KVM}.sighandler`], undefined, undefined, 'in-guest', 'bluepill-handler'],
  ['0x8e2f0', ['syscall.RawSyscall', `${KVM}.bluepillHandler`, `${KVM}.sighandler`], 'SVC $0', '010000d4', 'in-guest', 'bluepill-handler'],
  ['0x954e20', [`${KVM}.bluepillGuestExit`, `${KVM}.bluepillHandler`], undefined, undefined, 'guest-exit', 'guest-exit'],
  ['0x95c734', [`${KVM}.sighandler`], 'RET', 'c0035fd6', 'guest-exit', 'sighandler'],
  ['0xffffb00ba7dc', ['???'], undefined, '681180d2', 'sigreturn', 'trampoline'],
  ['0xffffb00ba7e0', ['???'], undefined, '010000d4', 'sigreturn', 'trampoline'],
  ['0x951d5c', switchStack, 'CALL gvisor.dev/gvisor/pkg/ring0.kernelExitToEl0(SB)', '91000094', 'resumed', 'switch-to-user'],
];

describe('classifyStop on the notes\' sequence (ARM64)', () => {
  const index = new LandmarkIndex(variantById('arm64'));
  let previous: Phase | undefined;
  notes.forEach(([pc, frames, text, bytes, phase, role], i) => {
    const expectedPrevious = previous;
    it(`${i + 1}. ${pc} ${shortName(frames[0])}${text ? ` (${text})` : ''} → ${phase}`, () => {
      // Where the code has no symbol, the tracker read the instructions around it: here the vDSO trampoline.
      const c = classifyStop(index, { frames, instruction: { text, bytes }, previousPhase: expectedPrevious, trampoline: frames[0] === '???' ? true : undefined });
      assert.equal(c.phase, phase, c.because);
      assert.equal(c.landmark?.role, role, c.because);
    });
    previous = phase;
  });
});

describe('classifyStop, amd64 before 2024 (CLI)', () => {
  const index = new LandmarkIndex(variantById('amd64-cli'));
  it('CLI in kvm.bluepill is the trap', () => {
    assert.equal(classifyStop(index, { frames: ['minibluepill/kvm.bluepill'], instruction: { text: 'CLI', bytes: 'fa' } }).phase, 'entering');
  });
  it('an anonymous mov rax, 15; syscall is the trampoline, both instructions', () => {
    assert.equal(classifyStop(index, { frames: ['???'], instruction: { bytes: '48c7c00f000000' }, trampoline: true }).phase, 'sigreturn');
    assert.equal(classifyStop(index, { frames: ['???'], instruction: { bytes: '0f05' }, previousPhase: 'sigreturn', trampoline: true }).phase, 'sigreturn');
  });
  it('Go\'s own restorer is the trampoline by name', () => {
    assert.equal(classifyStop(index, { frames: ['runtime.sigreturn__sigaction'] }).phase, 'sigreturn');
  });
});

describe('shortName', () => {
  it('keeps package and function, drops the path and ABI suffix', () => {
    assert.equal(shortName('gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser'), 'ring0.(*CPU).SwitchToUser');
    assert.equal(shortName('minibluepill/kvm.bluepill.abi0'), 'kvm.bluepill');
    assert.equal(shortName('runtime.futex'), 'runtime.futex');
  });
});

describe('classifyStop after the exit PC (no phantom trips)', () => {
  const index = new LandmarkIndex(variantById('arm64'));
  const bluepill = [`${KVM}.bluepill`, `${KVM}.(*vCPU).SwitchToUser`];
  it('the compare and RET of kvm.bluepill, stepped after resumed, stay resumed', () => {
    for (const [text, bytes] of [['CMP R8, R10', '1f010aeb'], ['RET', 'c0035fd6']]) {
      const c = classifyStop(index, { frames: bluepill, instruction: { text, bytes }, previousPhase: 'resumed', stepped: true });
      assert.equal(c.phase, 'resumed', c.because);
      assert.equal(c.landmark?.role, 'bluepill');
    }
  });
  it('the MRS again (a retry on the wrong vCPU) opens a new trip', () => {
    const c = classifyStop(index, { frames: bluepill, instruction: { text: 'MRS $18052, R10', bytes: '8ad038d5' }, previousPhase: 'resumed', stepped: true });
    assert.equal(c.phase, 'entering');
  });
  it('kvm.bluepill reached by a continue (a breakpoint, the next trip) is entering', () => {
    const c = classifyStop(index, { frames: bluepill, instruction: { text: 'MOVD 8(RSP), R8' }, previousPhase: 'resumed', stepped: false });
    assert.equal(c.phase, 'entering');
  });
});

describe('classifyStop: an unsymbolised SVC/SYSCALL is the trampoline only when the sequence is', () => {
  it('ARM64: the SVC of the vDSO\'s clock_gettime fallback, after a sigreturn, is a resume at a system call', () => {
    const index = new LandmarkIndex(variantById('arm64'));
    const svc = { text: undefined, bytes: '010000d4' };
    assert.equal(classifyStop(index, { frames: ['???'], instruction: svc, previousPhase: 'sigreturn', trampoline: false }).phase, 'resumed');
    assert.equal(classifyStop(index, { frames: ['???'], instruction: svc, previousPhase: 'sigreturn', trampoline: false }).landmark?.role, 'host-syscall');
    assert.equal(classifyStop(index, { frames: ['???'], instruction: svc, previousPhase: 'sigreturn' }).phase, 'resumed', 'unchecked is not a trampoline');
    assert.equal(classifyStop(index, { frames: ['???'], instruction: svc, previousPhase: 'guest-exit', trampoline: true }).phase, 'sigreturn');
  });
  it('amd64: a SYSCALL without a symbol is not a sigreturn unless MOV RAX, 15 precedes it', () => {
    const index = new LandmarkIndex(variantById('amd64-sigframe'));
    assert.equal(classifyStop(index, { frames: ['[vdso] ???'], instruction: { bytes: '0f05c3' }, previousPhase: 'sigreturn', trampoline: false }).phase, 'resumed');
  });
  it('ring0.Vectors and ring0.Start (gVisor before September 2022) are ring0 entry code', () => {
    const index = new LandmarkIndex(variantById('arm64'));
    for (const name of ['ring0.Vectors', 'ring0.Start']) assert.equal(classifyStop(index, { frames: [`${RING0}.${name.slice(6)}`] }).landmark?.role, 'vectors', name);
  });
});
