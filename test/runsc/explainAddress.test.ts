// Explain This Address on the real runsc sandbox (amd64, KVM; it hangs in the guest here, which
// is fine for reading its /proc): the Sentry's code, the memory file, the vCPUs'
// kvm_run pages, and gVisor's guest-physical reservation, whose size gVisor's source predicts
// from the host's physical address width (none when that width covers the user space).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { explainProcessAddress, physicalAddressBits } from '../../adapter/explain/localProcess';
import { expectedReservation } from '../../adapter/explain/addressKinds';
import { GVISOR_RESERVATION } from '../../adapter/explain/addressFacts.generated';
import { parseProcMaps } from '../../adapter/explain/procMaps';
import { compareWithSource } from '../../adapter/explain/gvisorReservation';
import { startRunscHang, type RunscHang } from '../support/runscHang';
import { GVISOR_VERSION } from '../support/runsc';

const skip = !fs.existsSync('/dev/kvm') ? 'no /dev/kvm' : process.getuid?.() !== 0 ? 'needs root (runsc)' : false;

describe(`Explain This Address on runsc ${GVISOR_VERSION} (amd64, KVM), live`, { skip }, () => {
  let hang: RunscHang | undefined;

  before(async () => {
    hang = await startRunscHang();
  });
  after(() => hang?.stop());

  it('the Sentry\'s code, the memory file and the vCPUs\' kvm_run pages', () => {
    const pid = hang!.sandboxPid;
    assert.ok(pid > 0, 'the runsc-sandbox process started');
    const maps = parseProcMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
    const exe = maps.find((m) => m.perms === 'r-xp' && m.path === fs.readlinkSync(`/proc/${pid}/exe`))!;
    const code = explainProcessAddress(pid, exe.start + 0x1000n);
    assert.equal(code.address.kind, 'code');
    assert.ok(code.code?.where, 'a function of runsc');
    const memfile = maps.find((m) => m.path.startsWith('/memfd:runsc-memory'));
    if (memfile) assert.equal(explainProcessAddress(pid, memfile.start).address.kind, 'gvisor-memory-file');
    const vcpu = maps.find((m) => m.path.startsWith('anon_inode:kvm-vcpu:'));
    assert.ok(vcpu, 'the sandbox has mapped a vCPU');
    assert.match(explainProcessAddress(pid, vcpu.start).address.summary, /KVM vCPU \d+'s shared run structure/);
  });

  it('the guest-physical reservation: present with gVisor\'s predicted size, or absent with the reason', () => {
    const pid = hang!.sandboxPid;
    const bits = physicalAddressBits();
    assert.ok(bits, '/proc/cpuinfo gives the physical address width');
    const expected = expectedReservation('amd64', bits).bytes;
    const maps = parseProcMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
    const huge = maps.filter((m) => m.path === '' && m.perms === '---p' && m.end - m.start >= 1n << 40n);
    if (expected === 0n) {
      assert.equal(huge.length, 0, 'no fill when the physical space covers the user space');
      const anon = maps.find((m) => m.path === '' && m.perms === '---p')!;
      const e = explainProcessAddress(pid, anon.start).address;
      assert.ok(e.details.some((d) => d.includes('no guest-physical reservation') && d.includes(`${bits}-bit`) && d.includes(GVISOR_RESERVATION.version)), e.details.join('\n'));
    } else {
      assert.ok(huge.length > 0, 'the fill is there');
      // fillAddressSpace's rules (halved requests, stops once it has enough; see readFill), with or without the vDSO and vvar excluded.
      const { fill } = compareWithSource('amd64', bits, maps);
      assert.ok(fill.consistent, fill.why);
      assert.equal(explainProcessAddress(pid, huge[0].start).address.kind, 'gvisor-reservation');
    }
  });
});
