import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { foreignTrap, hostSyscall, morestackRunaway, syscallName } from '../../adapter/bluepill/diagnoses';
import { variantById } from '../../adapter/bluepill/model';

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
