import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { foreignTrap, hostSyscall, morestackRunaway, syscallName } from '../../adapter/bluepill/diagnoses';
import { le32, variantById } from '../../adapter/bluepill/model';
import { decodeDieMarker, decodeDieTrampoline } from '../../adapter/bluepill/dieMarkers';

describe('diagnoses, raised only on evidence', () => {
  it('a run of 32 runtime.morestack frames, not 31', () => {
    const frames = (n: number) => ['kvm.bluepillHandler', ...Array(n).fill('runtime.morestack'), 'runtime.goexit'];
    assert.equal(morestackRunaway(frames(31)), undefined);
    const d = morestackRunaway(frames(32))!;
    assert.equal(d.id, 'morestack-runaway');
    assert.match(d.message, /^32 runtime\.morestack frames in a row/);
    assert.equal(morestackRunaway(['runtime.morestack', 'f', ...Array(31).fill('runtime.morestack')]), undefined, 'the run must be unbroken');
  });

  it('a SIGILL at MRS TPIDR_EL1 is the bluepill; at AUTIASP it is pointer authentication', () => {
    const arm64 = variantById('arm64');
    assert.equal(foreignTrap(arm64, 'MRS $18052, R10', '8ad038d5', undefined), undefined);
    const pac = foreignTrap(arm64, undefined, 'bf2303d5', '__kernel_getrandom')!;
    assert.equal(pac.id, 'foreign-trap');
    assert.match(pac.message, /pointer authentication/);
    assert.match(pac.message, /disableHostPAC/);
    const other = foreignTrap(arm64, 'UDF $0', '00000000', 'main.main')!;
    assert.match(other.message, /not the variant's trap/);
    assert.equal(foreignTrap(arm64, undefined, undefined, undefined), undefined, 'no instruction, no verdict');
  });

  it('names the system call the host runs for the guest, and the redpill', () => {
    assert.equal(syscallName('arm64', 172n), 'getpid');
    assert.equal(syscallName('amd64', 202n), 'futex');
    assert.match(hostSyscall(variantById('arm64'), 98n, 'runtime.futex').message, /executes futex \(98\) for the guest \(X8 = 98\)/);
    assert.match(hostSyscall(variantById('amd64-cli'), 0xffffffffffffffffn, 'kvm.redpill').message, /the redpill/);
  });
});

describe('what each variant\'s handler does with a trap that is not its own', () => {
  it('ARM64: taken for the bluepill (R8 read as the vCPU); amd64 CLI: passed on unless SI_KERNEL at a CLI', () => {
    const arm64 = foreignTrap(variantById('arm64'), 'UDF $0', '00000000', 'main.main')!;
    assert.match(arm64.message, /every SIGILL whose saved PC is not 0/);
    assert.match(arm64.message, /reads R8 as the vCPU pointer/);
    const cli = foreignTrap(variantById('amd64-cli'), 'MOVQ 0(AX), BX', '488b18', 'main.main')!;
    assert.match(cli.message, /passes it on to the handler it replaced/);
    assert.doesNotMatch(cli.message, /R8/);
  });
  it('ring0\'s MRS TPIDR_EL1, R18 that trapped on the host: something went wrong, not a foreign PAC or the bluepill', () => {
    const d = foreignTrap(variantById('arm64'), 'MRS $18052, R18', '92d038d5', 'ring0.kernelExitToEl0')!;
    assert.equal(d.id, 'guest-code-on-host');
    assert.equal(d.severity, 'error');
    assert.match(d.message, /^Something went wrong: MRS \$18052, R18 in ring0\.kernelExitToEl0 is ring0's MRS TPIDR_EL1, R18, guest-only code/);
  });
});

describe('the die path, the morestack loop and pointer authentication, in words', () => {
  it('the 0xabc marker: exit reason, data and the original PC from the registers gVisor uses', () => {
    const sym = (a: bigint) => (a === 0x401234n ? 'kvm.bluepill' : undefined);
    const d = decodeDieMarker('amd64', 0xabcn, [0x401234n, 6n, 0xfee00000n, 4n, 1n, 0n], sym)!;
    assert.equal(d.id, 'vcpu-died');
    assert.match(d.message, /^vCPU died: exit reason KVM_EXIT_MMIO \(6\), data 0xfee00000 0x4 0x1 0x0, at PC 0x401234 \(kvm\.bluepill\)/);
    assert.match(d.message, /R10–R14/);
    assert.match(decodeDieMarker('arm64', 0xabcn, [0x10n, 0x11n, 0n, 0n, 0n, 0n], sym)!.message, /KVM_EXIT_INTERNAL_ERROR \(17\).*X10–X14/);
    assert.match(decodeDieMarker('amd64', 0xabdn, [0x10n, 14n, 0xdeadn, 0n, 0n, 0n], sym)!.message, /vector 14, fault address 0xdead/);
    assert.equal(decodeDieMarker('arm64', 0xabdn, [0n, 0n, 0n, 0n, 0n, 0n], sym), undefined, '0xabd is amd64\'s only');
    assert.equal(decodeDieMarker('amd64', 0x401000n, [0n, 0n, 0n, 0n, 0n, 0n], sym), undefined, 'an ordinary PC is no marker');
    assert.match(decodeDieTrampoline('arm64', [0x401234n, 0xc000100000n], sym)!.message, /guest's PC 0x401234 \(kvm\.bluepill\) \(X0\), vCPU 0xc000100000 \(X1\)/);
  });
  it('a morestack run is the unwinder\'s loop, and the real stack is named', () => {
    const d = morestackRunaway(['pkg/kvm.bluepillHandler', 'pkg/kvm.sighandler', ...Array(40).fill('runtime.morestack')])!;
    assert.equal(d.severity, 'warning');
    assert.match(d.message, /from frame 2: the unwinder is going round a loop, not the stack growing/);
    assert.match(d.message, /the real stack is frames 0–2 \(kvm\.sighandler → runtime\.morestack\)/);
  });
  it('every AUT form and every combined form is pointer authentication, with what the trap says about FPAC', () => {
    const arm64 = variantById('arm64');
    // AUTIA X1, X2; AUTDZB X3; AUTIB1716; RETAB; BRAAZ X5; BLRAB X1, X2; LDRAA X0, [X1]
    for (const word of [0xdac11041, 0xdac13fe3, 0xd50321df]) assert.match(foreignTrap(arm64, undefined, le32(word), undefined)!.message, /FPAC \(ID_AA64ISAR1_EL1\.API\/APA ≥ 4/, word.toString(16));
    for (const word of [0xd65f0fff, 0xd61f08bf, 0xd73f0c22, 0xf8200420]) assert.match(foreignTrap(arm64, undefined, le32(word), undefined)!.message, /FPACCOMBINE \(ID_AA64ISAR1_EL1\.API\/APA ≥ 5/, word.toString(16));
    assert.doesNotMatch(foreignTrap(arm64, undefined, le32(0xd503233f), undefined)!.message, /pointer authentication/, 'PACIASP signs, it does not check');
  });
});
