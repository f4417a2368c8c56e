// The crash-report reader and its findings on the forms a live test cannot make with the fixture:
// the die marker under a panic (no register dump), vCPU.die's throw with dieHandler's frames, and
// the lines gVisor's handler prints (titles from the generated facts, values as printHex writes
// them: the title, a space, 16 hex digits).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { crashFindings, parseCrashReport } from '../../adapter/bluepill/crashReport';
import { CRASH_FACTS } from '../../adapter/bluepill/crashFacts.generated';

const printHex = (title: string, value: bigint) => `${title} ${value.toString(16).padStart(16, '0')}`;

describe('crash reports: the forms of gVisor\'s die path', () => {
  it('the marker under a panic: the vCPU died, and the report says why the exit cannot be read', () => {
    const r = parseCrashReport('panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0xabc pc=0xabc]\n\ngoroutine 7 [running]:\nmain.f()\n\t/src/main.go:3 +0x1c\n');
    assert.equal(r.panicSignal?.pc, 0xabcn);
    assert.equal(r.goroutine?.id, 7);
    const [f] = crashFindings(r);
    assert.equal(f.severity, 'error');
    assert.match(f.message, /gVisor's die marker.*no register dump to read them from/);
  });

  it('amd64\'s exception-check marker 0xabd with a dump: the vector and the fault address', () => {
    const regs = ['rax', 'rbx', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'rip'].map((n) => `${n.padEnd(6)} ${n === 'r9' ? '0x401000' : n === 'r10' ? '0xe' : n === 'r11' ? '0xffff800000001000' : n === 'rip' ? '0xabd' : '0x0'}`);
    const r = parseCrashReport(['SIGSEGV: segmentation violation', 'PC=0xabd m=3 sigcode=1 addr=0xabd', '', ...regs, ''].join('\n'));
    assert.equal(r.arch, 'amd64');
    const [f] = crashFindings(r, (a) => (a === 0x401000n ? 'main.f' : undefined));
    assert.match(f.message, /vector 14, fault address 0xffff800000001000\), at PC 0x401000 \(main\.f\)/);
  });

  it('vCPU.die: the thrown message names the exit, and the frame under dieHandler is where the guest was', () => {
    const die = CRASH_FACTS.dieMessages.find((d) => d.exitReason === 'KVM_EXIT_MMIO')!;
    const text = [`fatal error: ${die.message}`, '', 'goroutine 12 [running]:', 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.dieHandler(0xc000100000)', '\t/gvisor/pkg/sentry/platform/kvm/bluepill.go:81 +0x30', 'gvisor.dev/gvisor/pkg/sentry/mm.(*MemoryManager).HandleUserFault(...)', '\t/gvisor/pkg/sentry/mm/syscalls.go:50 +0x44', ''].join('\n');
    const findings = crashFindings(parseCrashReport(text));
    assert.equal(findings.length, 1);
    assert.match(findings[0].message, /^vCPU died: KVM_EXIT_MMIO \("exit_mmio"\), thrown by kvm\.dieHandler; the guest was at mm\.\(\*MemoryManager\)\.HandleUserFault \(\/gvisor\/pkg\/sentry\/mm\/syscalls\.go:50\)/);
  });

  it('the lines gVisor\'s handler prints are found by their titles, and an exit is named', () => {
    const logged = CRASH_FACTS.gvisorHexLines.find((l) => l.function === 'logKVMExitReason' && l.exitReason === 'KVM_EXIT_INTERNAL_ERROR')!;
    const sanity = CRASH_FACTS.gvisorHexLines.filter((l) => l.function === 'archExitSanityCheck');
    const text = [printHex(logged.title, 0x1n), ...sanity.map((l, i) => printHex(l.title, BigInt(i + 1))), 'fatal error: something else', ''].join('\n');
    const r = parseCrashReport(text);
    assert.equal(r.gvisorLines.length, 1 + sanity.length);
    const findings = crashFindings(r);
    assert.match(findings[0].message, /an exit it does not expect: KVM_EXIT_INTERNAL_ERROR \(17\), data\[0\] 0x1/);
    assert.match(findings[1].message, /exit sanity check found a guest state it must not resume: Vector 0x1/);
  });

  it('a Go crash with none of gVisor\'s signs says so; text that is no crash says what to give', () => {
    assert.match(crashFindings(parseCrashReport('panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n'))[0].message, /^A Go crash: a panic \("boom"\)\. Nothing in it is gVisor's die path/);
    assert.match(crashFindings(parseCrashReport('hello\n'))[0].message, /^No Go crash report found in 2 lines/);
  });

  it('only the first register dump is the crash\'s, and a line of any length is cut, not kept whole', () => {
    const r = parseCrashReport(['SIGSEGV: segmentation violation', 'PC=0x1 m=0 sigcode=1 addr=0x0', 'r9      0x5', 'lr      0x6', '', 'r9      0x7', 'x'.repeat(1 << 20)].join('\n'));
    assert.equal(r.registers.r9, 5n);
    assert.equal(r.arch, 'arm64');
  });

  it('lines collected with a log prefix (docker --timestamps, glog, journald) read as the bare report', () => {
    const bare = ['SIGSEGV: segmentation violation', 'PC=0xabc m=3 sigcode=1 addr=0xabc', '', 'goroutine 9 gp=0x1 m=3 mp=0x2 [syscall]:', 'main.f()', '\t/src/main.go:3 +0x1c fp=0x1 sp=0x2 pc=0x401000', '', 'r9      0x401000', 'r10     0x11', 'r11     0x1', 'r12     0x2', 'r13     0x3', 'r14     0x4', 'lr      0x5', 'pc      0xabc', 'fault   0xabc'];
    const prefixes = ['2026-12-01T05:06:11.123456789Z ', 'W1201 05:06:11.123456   4242 boot.go:12] ', 'Dec  1 05:06:11 board runsc[4242]: '];
    const expected = crashFindings(parseCrashReport(bare.join('\n')));
    assert.match(expected[0].message, /^vCPU died: exit reason KVM_EXIT_INTERNAL_ERROR \(17\)/);
    for (const prefix of prefixes) {
      const r = parseCrashReport(bare.map((l) => prefix + l).join('\n'));
      assert.equal(r.arch, 'arm64', prefix);
      assert.equal(r.goroutine?.frames[0].pc, 0x401000n, prefix);
      assert.deepEqual(crashFindings(r), expected, prefix);
    }
  });
});
