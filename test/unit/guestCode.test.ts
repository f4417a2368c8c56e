// Where gVisor's code runs: the table generated from the pinned gVisor's source, the name
// rules for other versions (checked against facts derived from a June 2022 gVisor), and the
// breakpoint warning built from them.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { functionAtLine, guestBreakpointWarning, judgeFunction } from '../../adapter/bluepill/guestCode';
import { GUEST_CODE } from '../../adapter/bluepill/guestCode.generated';
import type { GuestCodeTable } from '../../adapter/bluepill/guestCodeTypes';
import { guestVerdictByName } from '../../adapter/bluepill/guestNameRules';
import { repoRoot } from '../support/paths';

const GVISOR_2022: GuestCodeTable = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'gvisor-2022', 'guestCode.json'), 'utf8'));
const inGuest = (verdict: string) => verdict !== 'host-only';

/** Every row where a name rule speaks and says the opposite of the facts. */
function contradictions(table: GuestCodeTable): string[] {
  return table.functions.flatMap(([name, verdict, reason]) => {
    const rule = guestVerdictByName(name);
    return rule && inGuest(rule.verdict) !== inGuest(verdict) ? [`${name}: rule ${rule.verdict}, facts ${verdict} (${reason})`] : [];
  });
}

describe('where gVisor code runs', () => {
  it('the pinned table knows the round trip: the signal-handler path is host-only, ring0 and the page-table updates run in guest mode', () => {
    const verdict = (name: string, arch?: 'amd64' | 'arm64') => judgeFunction(name, arch)?.verdict;
    assert.equal(verdict('gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillGuestExit'), 'host-only');
    assert.equal(verdict('kvm.bluepillHandler'), 'host-only');
    assert.equal(verdict('kvm.dieHandler'), 'host-only');
    assert.equal(verdict('kvm.bluepillArchExit', 'arm64'), 'host-only');
    assert.equal(verdict('kvm.sighandler', 'arm64'), 'host-only');
    assert.equal(verdict('ring0.kernelExitToEl0', 'arm64'), 'guest');
    assert.equal(verdict('ring0.(*CPU).SwitchToUser', 'amd64'), 'guest');
    assert.equal(verdict('ring0.sysenter', 'amd64'), 'guest');
    assert.equal(verdict('kvm.(*addressSpace).mapLocked'), 'guest');
    assert.equal(verdict('kvm.(*vCPU).KernelSyscall'), 'guest');
    assert.equal(verdict('kvm.bluepill', 'arm64'), 'both');
    assert.match(judgeFunction('kvm.(*addressSpace).mapLocked')!.reason, /called after bluepill\(\) in kvm\.\(\*addressSpace\)\.MapFile \(address_space\.go:\d+\)/);
  });

  it('says nothing about a function it does not know', () => {
    assert.equal(judgeFunction('main.main'), undefined);
    assert.equal(judgeFunction('kvm.notAFunction'), undefined);
    assert.equal(guestBreakpointWarning(undefined), undefined);
  });

  it('falls back to name rules outside the table, and says so', () => {
    const empty: GuestCodeTable = { gvisorVersion: 'none', functions: [] };
    const old = judgeFunction('gvisor.dev/gvisor/pkg/ring0.Vectors', 'arm64', empty);
    assert.equal(old?.verdict, 'guest');
    assert.match(old!.source, /by name: not in the table of gVisor none/);
    assert.equal(judgeFunction('kvm.bluepillGuestExit', undefined, empty)?.verdict, 'host-only');
  });

  it('the name rules agree with the facts of a June 2022 gVisor wherever they speak', () => {
    assert.match(GVISOR_2022.gvisorVersion, /go branch [0-9a-f]{40} \(2022-06-\d\d\)/);
    assert.deepEqual(contradictions(GVISOR_2022), []);
    // ...and they know the 2022 names of the round trip (ring0.Vectors and ring0.Start before September 2022).
    for (const name of ['ring0.Vectors', 'ring0.Start', 'ring0.El1_sync', 'ring0.kernelExitToEl0', 'ring0.(*CPU).SwitchToUser', 'kvm.(*vCPU).KernelSyscall', 'kvm.(*addressSpace).mapLocked', 'kvm.bluepillGuestExit', 'kvm.bluepillHandler', 'kvm.sighandler']) {
      const fact = GVISOR_2022.functions.find((r) => r[0] === name);
      assert.ok(fact, `${name} is among the 2022 facts`);
      assert.equal(inGuest(guestVerdictByName(name)?.verdict ?? 'unknown'), inGuest(fact[1]), `${name}: rule vs 2022 fact ${fact[1]}`);
      assert.ok(guestVerdictByName(name), `a rule knows ${name}`);
    }
  });

  it('the name rules agree with the pinned table wherever they speak', () => {
    assert.deepEqual(contradictions(GUEST_CODE), []);
  });

  it('the warning names the function, the reason and the source, and claims no KVM debug exit', () => {
    const warning = guestBreakpointWarning(judgeFunction('ring0.(*CPU).SwitchToUser', 'arm64'))!;
    assert.match(warning, /^ring0\.\(\*CPU\)\.SwitchToUser runs in guest mode \(called after bluepill\(\) in kvm\.\(\*vCPU\)\.SwitchToUser/);
    assert.match(warning, new RegExp(`derived from gVisor ${GUEST_CODE.gvisorVersion}'s source`));
    assert.match(warning, /never enables KVM_SET_GUEST_DEBUG/);
    assert.doesNotMatch(warning, /kills the sandbox/);
    assert.match(warning, /Observed on ARM64 KVM: .*one guest exit later .*the sandbox survived\. Not observed on amd64\./);
    assert.equal(guestBreakpointWarning(judgeFunction('kvm.bluepillGuestExit')), undefined, 'the host side of the round trip is not guest code');
    assert.match(guestBreakpointWarning(judgeFunction('kvm.bluepill', 'arm64'))!, /runs in guest mode as well as on the host/);
  });

  it('finds the function of a source line in real Go and assembly (the minibluepill fixture)', () => {
    const dir = path.join(repoRoot, 'test', 'fixtures', 'minibluepill', 'kvm');
    const go = fs.readFileSync(path.join(dir, 'bluepill.go'), 'utf8');
    const lines = go.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l)) + 1;
    const guestExit = at(/^func bluepillGuestExit\(/);
    assert.equal(functionAtLine(go, guestExit + 1), 'kvm.bluepillGuestExit');
    assert.equal(functionAtLine(go, guestExit), 'kvm.bluepillGuestExit');
    assert.equal(functionAtLine(go, at(/^func kvmRun\(/) - 1), undefined, 'between two functions');
    assert.equal(functionAtLine(go, 1), undefined);
    const asm = fs.readFileSync(path.join(dir, 'bluepill_arm64.s'), 'utf8');
    assert.equal(functionAtLine(`package kvm\n${asm}`, asm.split('\n').findIndex((l) => l.startsWith('TEXT ·sighandler')) + 3), 'kvm.sighandler');
    assert.equal(functionAtLine('package ring0\n\nfunc (c *CPU) SwitchToUser(switchOpts SwitchOpts) (vector Vector) {\n\treturn\n}\n', 4), 'ring0.(*CPU).SwitchToUser');
  });
});

describe('name rules say what the code is for', () => {
  it('kvm.redpill is called in the guest to leave it, not the way in', () => {
    const rule = guestVerdictByName('kvm.redpill')!;
    assert.equal(rule.verdict, 'both');
    assert.match(rule.reason, /^called in the guest to leave it/);
    assert.match(guestVerdictByName('kvm.bluepill')!.reason, /switch into the guest/);
  });
});
