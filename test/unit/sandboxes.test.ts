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
