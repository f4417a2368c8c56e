// Where one instruction can take a thread (bluepill/nextPc.ts), and the kernel's view of
// a stopped task (/proc/PID/task/TID/syscall). Encodings from the hello fixture's
// `go tool objdump` (amd64) and, for arm64 and the amd64 JE rel32, as GNU as 2.40 and
// objdump print them (aarch64-linux-gnu-as; offsets as objdump shows the targets).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { agrees, nextPcs } from '../../adapter/bluepill/nextPc';
import { parseTaskSyscall } from '../../adapter/processes/taskRegisters';

describe('nextPcs', () => {
  it('amd64: straight-line code goes on to the next instruction', () => {
    assert.deepEqual(nextPcs('amd64', 0x518bf0n, '488b4c2418', false), { pcs: [0x518bf5n] });
  });
  it('amd64: direct jumps, conditional jumps and calls (objdump of hello)', () => {
    assert.deepEqual(nextPcs('amd64', 0x518c19n, 'ebd5', true), { pcs: [0x518bf0n] }); // JMP 0x518bf0
    assert.deepEqual(nextPcs('amd64', 0x518bfan, '7f02', true), { pcs: [0x518bfcn, 0x518bfen] }); // JG 0x518bfe
    assert.deepEqual(nextPcs('amd64', 0x518c03n, 'e878ffffff', true), { pcs: [0x518b80n], spDelta: -8n }); // CALL main.square
    assert.deepEqual(nextPcs('amd64', 0x518c30n, 'e8ab2ef7ff', true), { pcs: [0x48bae0n], spDelta: -8n }); // CALL runtime.morestack_noctxt
    assert.deepEqual(nextPcs('amd64', 0x100n, '0f8410000000', true), { pcs: [0x106n, 0x116n] }); // JE rel32
    assert.deepEqual(nextPcs('amd64', 0x518ba2n, 'c3', true), { pcs: [], spDelta: 8n }); // RET
  });
  it('amd64: indirect transfers and system calls are not predicted', () => {
    assert.equal(nextPcs('amd64', 0x100n, 'ffd0', true), undefined); // CALL AX
    assert.equal(nextPcs('amd64', 0x100n, '0f05', true), undefined); // SYSCALL
    assert.equal(nextPcs('amd64', 0x100n, 'zz', false), undefined);
  });
  it('arm64: B, BL, B.cond, CBZ, TBZ; RET and BR are not predicted', () => {
    assert.deepEqual(nextPcs('arm64', 0x1000n, '04000014', true), { pcs: [0x1010n] }); // B +16
    assert.deepEqual(nextPcs('arm64', 0x1000n, 'ffffff97', true), { pcs: [0xffcn], spDelta: 0n }); // BL -4
    assert.deepEqual(nextPcs('arm64', 0x1000n, '40000054', true), { pcs: [0x1004n, 0x1008n] }); // B.EQ +8
    assert.deepEqual(nextPcs('arm64', 0x1000n, 'e0ffffb4', true), { pcs: [0x1004n, 0xffcn] }); // CBZ X0, -4
    assert.deepEqual(nextPcs('arm64', 0x1000n, '60000036', true), { pcs: [0x1004n, 0x100cn] }); // TBZ W0, #0, +12
    assert.equal(nextPcs('arm64', 0x1000n, 'c0035fd6', true), undefined); // RET
    assert.equal(nextPcs('arm64', 0x1000n, '00001fd6', true), undefined); // BR X0
  });
});

describe('agrees', () => {
  it('takes a PC among the successors, with the SP a call or return fixes', () => {
    assert.ok(agrees({ pcs: [5n, 9n] }, 100n, 9n, 96n));
    assert.ok(!agrees({ pcs: [5n, 9n] }, 100n, 7n, 100n));
    assert.ok(agrees({ pcs: [0x80n], spDelta: -8n }, 100n, 0x80n, 92n));
    assert.ok(!agrees({ pcs: [0x80n], spDelta: -8n }, 100n, 0x80n, 100n));
    assert.ok(agrees({ pcs: [], spDelta: 8n }, 100n, 0x1234n, 108n));
    // A task that did not run (SP unchanged) is not the one that returned.
    assert.ok(!agrees({ pcs: [], spDelta: 8n }, 100n, 0x1234n, 100n));
  });
});

describe('parseTaskSyscall', () => {
  it('reads SP and PC of a task stopped outside a system call, nothing else', () => {
    assert.deepEqual(parseTaskSyscall('-1 0xc000050f60 0x518b95\n'), { sp: 0xc000050f60n, pc: 0x518b95n });
    assert.equal(parseTaskSyscall('running\n'), undefined);
    assert.equal(parseTaskSyscall('202 0x6201b8 0x80 0x0 0x0 0x0 0x0 0x7fff0a557610 0x48ef43\n'), undefined);
    assert.equal(parseTaskSyscall(''), undefined);
  });
});
