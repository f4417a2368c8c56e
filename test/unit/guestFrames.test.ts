// The pure parts of the guest frames in the Call Stack and of the vCPU table join:
// which thread is in ioctl(KVM_RUN) (from /proc lines recorded on the hanging runsc,
// amd64, kernel 6.18, 2026-12-01), which vCPU thread a goroutine dlv shows on KVM's worker
// stands for, the vCPU table read from dlv's own answers (recorded with dlv 1.27.2 on the
// same runsc), and the paging of a stack with guest frames on top and signal frames below.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { isKvmRun, kvmRunThreads, parseSyscallFile, PF_USER_WORKER, statFlags, tidOfDlvThread, vcpuThreadOf, type KvmRunThread } from '../../adapter/guest/vcpuThreads';
import { dlvInteger, dlvString, readVcpuTable, stateNames } from '../../adapter/guest/vcpuTable';
import { assemblePage, belowGuestRange, unknownGuestText } from '../../adapter/hooks/bluepill/guestFrames';
import { dlvRange } from '../../adapter/hooks/bluepill/signalStack';
import { isGuestFrameId, isProxyFrameId, isSignalFrameId, GUEST_FRAME_ID_BASE, SIGNAL_FRAME_ID_BASE } from '../../adapter/hooks/bluepill/session';

// Recorded: the vCPU thread stopped by dlv inside the ioctl, KVM's worker (a copy of its creator's registers), a futex waiter.
const VCPU_SYSCALL = '16 0xa 0xae80 0x0 0x0 0x0 0x0 0x3d15fc4b1df0 0xf5fc2b\n';
const WORKER_SYSCALL = '16 0xa 0xae80 0x0 0x0 0x0 0x0 0x0 0x0\n';
const FUTEX_SYSCALL = '202 0x535cc10 0x80 0x0 0x7fffb36b04f0 0x0 0x0 0x7fffb36b04b8 0x4973e3\n';
const VCPU_STAT = '11787 (exe) R 11774 11785 11785 0 -1 4194624 557 1074 0 0 228 31818 0 0 20 0 9 0 208410';
const WORKER_STAT = '11806 (kvm-nx-lpage-re) S 11774 11785 11785 0 -1 4210752 0 1074 0 0 0 0 0 0 20 0 9 0 208417';

describe('which thread is in ioctl(KVM_RUN), from /proc', () => {
  it('reads the syscall file: number and arguments, nothing for a running thread', () => {
    assert.deepEqual(parseSyscallFile(VCPU_SYSCALL), { nr: 16, args: [0xan, 0xae80n, 0n, 0n, 0n, 0n] });
    assert.equal(parseSyscallFile('running\n'), undefined);
    assert.equal(parseSyscallFile('-1 0x7ffd 0x4973e3\n'), undefined);
  });

  it('ioctl(fd, KVM_RUN) by each architecture\'s syscall number (amd64 16, arm64 29)', () => {
    assert.equal(isKvmRun('amd64', parseSyscallFile(VCPU_SYSCALL)), true);
    assert.equal(isKvmRun('arm64', parseSyscallFile(VCPU_SYSCALL)), false, '16 is not ioctl on arm64');
    assert.equal(isKvmRun('arm64', parseSyscallFile('29 0xb 0xae80 0x0 0x0 0x0 0x0 0xffff 0x1234')), true);
    assert.equal(isKvmRun('amd64', parseSyscallFile('16 0xa 0x8090ae81 0x0 0x0 0x0 0x0 0x0 0x0')), false, 'another ioctl');
    assert.equal(isKvmRun('amd64', parseSyscallFile(FUTEX_SYSCALL)), false);
  });

  it('PF_USER_WORKER marks KVM\'s worker, even with a command name that has spaces and parentheses', () => {
    assert.equal(statFlags(VCPU_STAT) & PF_USER_WORKER, 0);
    assert.notEqual(statFlags(WORKER_STAT) & PF_USER_WORKER, 0);
    assert.equal(statFlags('7 (a (b) c) S 1 7 7 0 -1 16384 0'), 16384);
  });

  it('lists the threads in KVM_RUN of a process, on a /proc laid out as the kernel does', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-'));
    const add = (tid: number, comm: string, syscall: string, stat: string) => {
      const dir = path.join(root, '11785', 'task', String(tid));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'syscall'), syscall);
      fs.writeFileSync(path.join(dir, 'stat'), stat);
      fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
    };
    add(11785, 'exe', FUTEX_SYSCALL, '11785 (exe) S 1 11785 11785 0 -1 4194560');
    add(11787, 'exe', VCPU_SYSCALL, VCPU_STAT);
    add(11806, 'kvm-nx-lpage-re', WORKER_SYSCALL, WORKER_STAT);
    add(11818, 'exe', 'running\n', '11818 (exe) R 1 11785 11785 0 -1 4194624');
    try {
      assert.deepEqual(kvmRunThreads(11785, 'amd64', root).sort((a, b) => a.tid - b.tid), [
        { tid: 11787, vcpuFd: 10, worker: false, comm: 'exe' },
        { tid: 11806, vcpuFd: 10, worker: true, comm: 'kvm-nx-lpage-re' },
      ]);
      assert.deepEqual(kvmRunThreads(4242, 'amd64', root), [], 'no such process: none');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the vCPU thread behind a goroutine dlv shows', () => {
  const inKvmRun: KvmRunThread[] = [
    { tid: 11787, vcpuFd: 10, worker: false, comm: 'exe' },
    { tid: 11806, vcpuFd: 10, worker: true, comm: 'kvm-nx-lpage-re' },
  ];

  it('reads the OS thread from dlv\'s thread name', () => {
    assert.equal(tidOfDlvThread('[Go 1] hostsyscall.RawSyscallErrno (Thread 11787)'), 11787);
    assert.equal(tidOfDlvThread('* [Go 11] runtime.Stack (Thread 11785)'), 11785);
    assert.equal(tidOfDlvThread('[Go 2] runtime.gopark'), undefined, 'a parked goroutine has no thread');
  });

  it('the thread itself when it is in KVM_RUN; the vCPU thread on the same fd when dlv shows KVM\'s worker', () => {
    assert.deepEqual(vcpuThreadOf(11787, inKvmRun), { vcpuTid: 11787, vcpuFd: 10 });
    assert.deepEqual(vcpuThreadOf(11806, inKvmRun), { vcpuTid: 11787, vcpuFd: 10, shownOn: { tid: 11806, comm: 'kvm-nx-lpage-re' } });
    assert.equal(vcpuThreadOf(11785, inKvmRun), undefined, 'not in KVM_RUN: no guest frames');
  });

  it('says why when the worker stands for no single vCPU thread', () => {
    const r = vcpuThreadOf(11806, [inKvmRun[1]]);
    assert.ok(r && 'why' in r);
    assert.match(r.why, /no thread is in KVM_RUN on its vCPU fd 10/);
  });

  it('a goroutine dlv shows on a thread not in KVM_RUN gets "guest: unknown", naming the threads that are, not a guess', () => {
    // Seen in CI: dlv showed the vCPU goroutine on thread 16326, the kernel had 16311 in KVM_RUN.
    assert.equal(unknownGuestText(16326, [{ tid: 16311, vcpuFd: 10, worker: false, comm: 'exe' }]), 'guest: unknown (dlv shows this goroutine on thread 16326, which the kernel does not show in ioctl(KVM_RUN); in KVM_RUN: thread 16311)');
    assert.match(unknownGuestText(5, [inKvmRun[0], { tid: 11790, vcpuFd: 11, worker: false, comm: 'exe' }])!, /in KVM_RUN: threads 11787, 11790\)$/);
    assert.equal(unknownGuestText(5, [inKvmRun[1]]), undefined, 'no vCPU thread in KVM_RUN: nothing to say about a guest');
    assert.equal(unknownGuestText(5, []), undefined);
  });
});

describe('the Sentry\'s vCPU table, read through dlv', () => {
  // dlv 1.27.2's answers on the hanging runsc (one machine, 6 vCPUs, 1 used).
  const MACHINE = '(*kvm.machine)(uintptr(0x3d15fc53e400))';
  const answers = new Map<string, string>([
    ['"gvisor.dev/gvisor/pkg/sentry/platform/kvm".machinePoolLen.value', '1 = 0x1'],
    ['"gvisor.dev/gvisor/pkg/sentry/platform/kvm".machinePool[0].ptr', 'unsafe.Pointer(0x3d15fc53e400)'],
    [`len(${MACHINE}.vCPUsByID)`, '6'],
    [`${MACHINE}.usedVCPUs`, '1'],
    [`${MACHINE}.vCPUsByID[0].id`, '0'],
    [`${MACHINE}.vCPUsByID[0].fd`, '10'],
    [`${MACHINE}.vCPUsByID[0].tid.value`, '3 = 0x3'],
    [`${MACHINE}.vCPUsByID[0].state.value`, '3 = 0x3'],
    [`${MACHINE}.vCPUsByID[0].userExits.value`, '0 = 0x0'],
    [`${MACHINE}.vCPUsByID[0].guestExits.value`, '0 = 0x0'],
    [`${MACHINE}.vCPUsByID[0].faults`, '0 = 0x0'],
    [`${MACHINE}.vCPUsByID[0].dieState.message`, '""'],
  ]);

  it('reads each used vCPU and joins it with the thread in KVM_RUN on its fd', async () => {
    const asked: string[] = [];
    const vcpus = await readVcpuTable(async (e) => (asked.push(e), answers.get(e)), [
      { tid: 11787, vcpuFd: 10, worker: false, comm: 'exe' },
      { tid: 11806, vcpuFd: 10, worker: true, comm: 'kvm-nx-lpage-re' },
    ]);
    assert.deepEqual(vcpus, [{ machine: 0, id: 0, fd: 10, tidField: 3, state: 3, stateNames: ['user', 'guest'], userExits: 0, guestExits: 0, faults: 0, inKvmRun: 11787 }]);
    assert.ok(!asked.some((e) => e.includes('vCPUsByID[1]')), 'only the vCPUs handed out (usedVCPUs)');
  });

  it('says so when the binary has no such table', async () => {
    await assert.rejects(readVcpuTable(async () => undefined), /could not read gVisor's kvm.machinePoolLen/);
  });

  it('reads dlv\'s numbers and strings; names the state bits of machine.go', () => {
    assert.equal(dlvInteger('3 = 0x3'), 3);
    assert.equal(dlvInteger('-1'), -1);
    assert.equal(dlvInteger('unsafe.Pointer(0x0)'), undefined);
    assert.equal(dlvString('"vCPU died: exit reason 8"'), 'vCPU died: exit reason 8');
    assert.equal(dlvString('""'), '');
    assert.deepEqual(stateNames(0), ['ready']);
    assert.deepEqual(stateNames(6), ['guest', 'waiter']);
  });
});

describe('paging a stack with guest frames on top (and signal frames spliced below)', () => {
  it('frame ids: the guest range lies between dlv\'s and the signal frames\'', () => {
    assert.ok(isGuestFrameId(GUEST_FRAME_ID_BASE) && !isSignalFrameId(GUEST_FRAME_ID_BASE));
    assert.ok(!isGuestFrameId(SIGNAL_FRAME_ID_BASE) && isProxyFrameId(SIGNAL_FRAME_ID_BASE));
    assert.ok(!isProxyFrameId(1000) && !isProxyFrameId(undefined));
  });

  const frame = (name: string, id: number): DebugProtocol.StackFrame => ({ id, name, line: 0, column: 0 });

  it('every way of paging gives the same stack as one page (k guest frames, then signalStack\'s page of dlv\'s frames with its splice)', () => {
    const guest = ['label', '(guest) pc', 'host label'].map((n, i) => frame(n, GUEST_FRAME_ID_BASE + i));
    const dlv = Array.from({ length: 9 }, (_, i) => frame(`dlv ${i}`, 1000 + i));
    const spliced = ['sep', 'u1', 'u2'].map((n, i) => frame(n, SIGNAL_FRAME_ID_BASE + i));
    const at = 4;
    const middle = [...dlv.slice(0, at), ...spliced, ...dlv.slice(at)];
    const whole = [...guest, ...middle];
    // One client page through both layers: ours shifts it below the guest frames, signalStack's maps that onto dlv's.
    const page = (start: number, levels: number) => {
      const end = start + levels;
      const below = belowGuestRange(start, end, guest.length);
      const b = below ?? { start: 0, end: 1 };
      const d = dlvRange(b.start, b.end, at, spliced.length);
      const fromDlv = dlv.slice(d.start, d.end);
      const middlePage: DebugProtocol.StackFrame[] = [];
      for (let v = b.start; v < b.end; v++) {
        const f = v < at ? fromDlv[v - d.start] : v < at + spliced.length ? spliced[v - at] : fromDlv[v - spliced.length - d.start];
        if (!f) break;
        middlePage.push(f);
      }
      return assemblePage(start, end, guest, below ? middlePage : [], below?.start ?? 0);
    };
    assert.deepEqual(page(0, 50), whole);
    for (const first of [1, 2, 3, 4, 5, 7, 20]) {
      const pieces = [...page(0, first), ...page(first, 50)];
      assert.deepEqual(pieces.map((f) => f.name), whole.map((f) => f.name), `pages [0,${first}) and [${first},…)`);
    }
    assert.deepEqual(page(0, 1).map((f) => f.name), ['label'], 'VS Code\'s first request: the label');
    assert.deepEqual(page(2, 3).map((f) => f.name), ['host label', 'dlv 0', 'dlv 1']);
    assert.deepEqual(page(40, 10), [], 'past the end');
  });

  it('belowGuestRange: nothing below when the page is all guest frames', () => {
    assert.equal(belowGuestRange(0, 3, 3), undefined);
    assert.deepEqual(belowGuestRange(1, 20, 3), { start: 0, end: 17 });
    assert.deepEqual(belowGuestRange(5, 10, 3), { start: 2, end: 7 });
  });
});
