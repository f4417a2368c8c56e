import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { classifyProcess, describeProcess, orderForPicker } from '../../adapter/processes/sandboxes';
import { listProcesses } from '../../adapter/processes/procfs';

const p = (pid: number, name: string, argv: string[]) => ({ pid, name, argv, uid: 0 });

describe('sandbox processes', () => {
  it('recognises runsc-sandbox by name and finds its container id', () => {
    const sandbox = classifyProcess(
      p(4989, 'runsc-sandbox', ['runsc-sandbox', '--root=/var/run/docker/runtime-runc/moby', '--platform=kvm', '--debug', 'boot', '--bundle=/run/containerd/x', '--controller-fd=3', '--cpu-num=1', 'b2f1c0ffee']),
    );
    assert.deepEqual(sandbox.sandbox, { containerId: 'b2f1c0ffee' });
    assert.equal(describeProcess(sandbox), 'runsc-sandbox (pid 4989) container b2f1c0ffee');
  });

  it('names a re-executed runsc by its argv[0], not the kernel\'s "exe"', () => {
    const sandbox = classifyProcess(p(5387, 'exe', ['runsc-sandbox', '--root=/tmp/runsc-do1', '--platform=kvm', 'boot', '--bundle=/tmp/b', 'runsc-123456']));
    assert.equal(sandbox.name, 'runsc-sandbox');
    assert.deepEqual(sandbox.sandbox, { containerId: 'runsc-123456' });
  });

  it('recognises `runsc ... boot` under its own name too', () => {
    assert.ok(classifyProcess(p(7, 'exe', ['/usr/local/bin/runsc', '--platform=kvm', 'boot', 'cid'])).sandbox);
    assert.equal(classifyProcess(p(8, 'runsc', ['/usr/local/bin/runsc', 'gofer', '--bundle=/x'])).sandbox, undefined);
    assert.equal(classifyProcess(p(9, 'bash', ['bash', '-c', 'boot'])).sandbox, undefined);
  });

  it('ranks as a sandbox only what its owner and executable prove: not a look-alike of another user, nor a runsc boot that runs another file', () => {
    const boot = ['runsc-sandbox', '--platform=kvm', 'boot', 'cid'];
    // gVisor runs the sandbox as nobody (65534) by default, root in a given user namespace, the caller when rootless.
    for (const uid of [0, 65534]) assert.ok(classifyProcess({ pid: 1, name: 'exe', argv: boot, uid, exe: '/usr/local/bin/runsc' }, 1000).sandbox, `uid ${uid}`);
    assert.ok(classifyProcess({ pid: 1, name: 'exe', argv: boot, uid: 1000, exe: '/home/me/runsc' }, 1000).sandbox, 'a rootless sandbox of the viewer');
    assert.equal(classifyProcess({ pid: 1, name: 'runsc-sandbox', argv: boot, uid: 1001 }, 1000).sandbox, undefined, 'another user named a process runsc-sandbox');
    assert.equal(classifyProcess({ pid: 1, name: 'sh', argv: boot, uid: 0, exe: '/usr/bin/dash' }, 0).sandbox, undefined, 'its executable is not runsc');
    assert.ok(classifyProcess({ pid: 1, name: 'exe', argv: boot, uid: 65534, exe: '/usr/local/bin/runsc (deleted)' }, 0).sandbox, 'runsc replaced on disk since it started');
    assert.ok(classifyProcess({ pid: 1, name: 'exe', argv: boot, uid: 65534 }, 1000).sandbox, 'the executable of another user cannot be read: the owner decides');
  });

  it('lists sandboxes first, then the rest by pid, without itself or kernel threads', () => {
    const ordered = orderForPicker(
      [p(30, 'bash', ['bash']), p(2, 'kthreadd', []), p(12, 'runsc-sandbox', ['runsc-sandbox', 'boot', 'c1']), p(5, 'init', ['/sbin/init']), p(99, 'node', ['node'])],
      99,
    );
    assert.deepEqual(ordered.map((x) => x.pid), [12, 5, 30]);
  });

  it('reads this machine\'s process table, including this test', () => {
    const me = listProcesses().find((x) => x.pid === process.pid);
    assert.ok(me);
    assert.ok(me.argv.some((a) => a.includes('node')) || me.name.includes('node'));
    assert.equal(me.uid, process.getuid!());
  });
});
