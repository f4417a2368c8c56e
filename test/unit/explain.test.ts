// Explain This PC on the notes' landmarks (facts as a session would give them),
// and the listing index on a real listing built in the test.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { explain, explanationMarkdown } from '../../adapter/explain/explain';
import { ListingIndex } from '../../adapter/explain/listingIndex';
import { addressMarkdown } from '../../adapter/explain/addressInfo';
import { parseInstructionLine } from '../../adapter/explain/listing';
import { buildFixture } from '../support/fixtures';

const KVM = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';

describe('explain (the notes\' addresses)', () => {
  it('0x95c6d8 MRS $18052, R10 in kvm.bluepill: the trap', () => {
    const e = explain({ address: 0x95c6d8n, arch: 'arm64', symbol: `${KVM}.bluepill`, offset: 0x18n, instruction: { text: 'MRS $18052, R10', bytes: '8ad038d5' }, origin: 'test' });
    assert.equal(e.where, `${KVM}.bluepill+0x18`);
    assert.equal(e.instruction, 'MRS TPIDR_EL1, R10  // $18052 · EL1 only');
    assert.equal(e.sysreg?.name, 'TPIDR_EL1');
    assert.equal(e.landmark?.role, 'trap-instruction');
    assert.equal(e.landmark?.phase, 'entering');
    assert.match(e.inHost, /SIGILL.*the bluepill/);
    assert.match(e.inGuest, /per-CPU pointer/);
    assert.ok(e.pitfalls.some((p) => /lands in the signal handler/.test(p)));
    assert.ok(e.pitfalls.some((p) => /breakpoint here is unsafe/.test(p)));
  });

  it('amd64 bytes the small decoder does not know: said to be undecoded, never shown as a one-byte instruction', () => {
    const e = explain({ address: 0x401000n, arch: 'amd64', symbol: 'main.f', offset: 0n, instruction: { bytes: '48' }, origin: 'test' });
    assert.equal(e.instruction, 'not decoded here (its bytes start 48)');
  });

  it('system register accesses at EL0 as Linux runs them (measured), not as op1 alone suggests', () => {
    const host = (text: string) => explain({ address: 0x10000n, arch: 'arm64', symbol: 'main.f', offset: 0n, instruction: { text }, origin: 'test' }).inHost;
    // internal/cpu.getMIDR reads MIDR_EL1 at EL0: Linux emulates it.
    assert.match(host('MRS MIDR_EL1, R0'), /^Completes at EL0 although MIDR_EL1 is EL1's: Linux traps the read and emulates it.*\(measured on Linux /);
    assert.doesNotMatch(host('MRS MIDR_EL1, R0'), /SIGILL/);
    assert.match(host('MRS DAIF, R0'), /^Raises SIGILL at EL0: the read of DAIF is not allowed to user space \(measured on Linux [^ ]+ on QEMU's max CPU\)/);
    assert.match(host('MSR $2, DAIFSet'), /^Raises SIGILL at EL0: writing PSTATE through DAIFSET is not allowed to user space/);
    // A write the probe never tried (it wrote back only what it could read) is not called measured; the bluepill is the MRS alone.
    assert.equal(host('MSR R18, TPIDR_EL1'), "Undefined at EL0: TPIDR_EL1 is EL1's by its encoding, and Linux emulates no write, so the kernel delivers SIGILL (not measured: the probe wrote back only what it could read).");
    assert.match(host('MRS TPIDR_EL0, R0'), /^Reads TPIDR_EL0 at EL0/);
    assert.match(host('MSR R0, TPIDR_EL0'), /^Writes TPIDR_EL0 at EL0/);
  });

  it('0xffffb00ba7dc, no symbol, MOVZ X8 #139: the vDSO trampoline', () => {
    const e = explain({ address: 0xffffb00ba7dcn, arch: 'arm64', instruction: { bytes: '681180d2' }, origin: 'test' });
    assert.match(e.where, /__kernel_rt_sigreturn/);
    assert.equal(e.landmark?.phase, 'sigreturn');
    assert.match(e.special ?? '', /rt_sigreturn trampoline/);
  });

  it('0x7f41c SVC in runtime.futex: where the host resumes to run a syscall', () => {
    const e = explain({ address: 0x7f41cn, arch: 'arm64', symbol: 'runtime.futex', offset: 0x1cn, instruction: { text: 'SVC $0', bytes: '010000d4' }, origin: 'test' });
    assert.equal(e.landmark?.role, 'host-syscall');
    assert.match(e.inHost, /system call \(number in X8\)/);
    assert.match(e.inGuest, /HaltEl1SvcAndResume/);
  });

  it('0x951d5c CALL ring0.kernelExitToEl0 in ring0.(*CPU).SwitchToUser', () => {
    const e = explain({ address: 0x951d5cn, arch: 'arm64', symbol: 'gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser', instruction: { text: 'CALL gvisor.dev/gvisor/pkg/ring0.kernelExitToEl0(SB)', bytes: '91000094' }, origin: 'test' });
    assert.equal(e.landmark?.role, 'switch-to-user');
    assert.ok(e.pitfalls.some((p) => /unsafe/.test(p)));
    assert.match(explanationMarkdown(e), /\| host \(EL0 \/ ring 3\) \|/);
  });
});

describe('ListingIndex on a real listing', () => {
  let lines: string[];
  let index: ListingIndex;
  before(async () => {
    const listing = execFileSync('go', ['tool', 'objdump', '-S', buildFixture('minibluepill', { goarch: 'arm64' })], { encoding: 'utf8', maxBuffer: 1 << 30 });
    lines = listing.split('\n');
    index = await ListingIndex.build({ lineCount: lines.length, lineAt: (n) => lines[n] }, 10_000);
  });

  it('indexes every TEXT block with its address range', () => {
    const texts = lines.filter((l) => l.startsWith('TEXT ')).length;
    assert.equal(index.blocks.length, texts);
    const bluepill = index.blockNamed('minibluepill/kvm.bluepill')!;
    assert.ok(bluepill.firstAddress! > 0);
    assert.match(lines[bluepill.headerLine], /^TEXT minibluepill\/kvm\.bluepill\.abi0\(SB\)/);
  });

  it('finds the block and the line of an address, and names it in a hover', () => {
    const sighandler = index.blockNamed('minibluepill/kvm.sighandler')!;
    const address = sighandler.firstAddress! + 8;
    assert.equal(index.blockAt(address), sighandler);
    const line = index.lineOf(address, { lineCount: lines.length, lineAt: (n) => lines[n] })!;
    assert.equal(Number(parseInstructionLine(lines[line])!.address), address);
    const md = addressMarkdown(index, address)!;
    assert.match(md, /\*\*minibluepill\/kvm\.sighandler\*\*\+0x8/);
    assert.match(md, /Bluepill: \*\*sighandler\*\*, phase \*trapped\*/);
    assert.equal(index.blockAt(0x10), undefined);
  });
});
