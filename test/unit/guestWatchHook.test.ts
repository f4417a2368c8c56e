// Which attach requests start the guest watch (adapter/hooks/guestWatch.ts): a local attach
// to a process that is provably a runsc sandbox, or any local attach with guestTrace: true;
// never a remote attach, a launch, or guestTrace: false. On a /proc laid out as the kernel does.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sandboxOfAttach } from '../../adapter/hooks/guestWatch';

function fakeProc(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-'));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'bin-'));
  fs.writeFileSync(path.join(bin, 'runsc'), '');
  fs.writeFileSync(path.join(bin, 'server'), '');
  const add = (pid: number, comm: string, argv: string[], uid: number, exe: string) => {
    const dir = path.join(root, String(pid));
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'comm'), `${comm}\n`);
    fs.writeFileSync(path.join(dir, 'cmdline'), argv.join('\0') + '\0');
    fs.writeFileSync(path.join(dir, 'status'), `Name:\t${comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
    fs.symlinkSync(path.join(bin, exe), path.join(dir, 'exe'));
  };
  add(100, 'exe', ['runsc-sandbox', '--root=/run/runsc', 'boot', 'abc123'], 65534, 'runsc');
  add(200, 'server', ['/usr/bin/server'], 1000, 'server');
  add(300, 'runsc-sandbox', ['runsc-sandbox', 'boot', 'x'], 1000, 'server'); // says so, but runs another file
  return root;
}

const attach = (args: Record<string, unknown>) => ({ seq: 1, type: 'request', command: 'attach', arguments: args });

describe('guest watch: which sessions watch a guest', () => {
  const proc = fakeProc();
  it('a local attach to a runsc sandbox does, with the pid as given (numbers or digits)', () => {
    assert.equal(sandboxOfAttach(attach({ mode: 'local', processId: 100 }), proc), 100);
    assert.equal(sandboxOfAttach(attach({ processId: '100' }), proc), 100);
  });
  it('another process does not, unless asked with guestTrace: true', () => {
    assert.equal(sandboxOfAttach(attach({ processId: 200 }), proc), undefined);
    assert.equal(sandboxOfAttach(attach({ processId: 200, guestTrace: true }), proc), 200);
    assert.equal(sandboxOfAttach(attach({ processId: 300 }), proc), undefined, 'a process named runsc-sandbox that does not run runsc');
  });
  it('guestTrace: false, a remote attach, a launch, a gone process or a bad pid do not', () => {
    assert.equal(sandboxOfAttach(attach({ processId: 100, guestTrace: false }), proc), undefined);
    assert.equal(sandboxOfAttach(attach({ mode: 'remote', processId: 100 }), proc), undefined);
    assert.equal(sandboxOfAttach({ seq: 1, type: 'request', command: 'launch', arguments: { processId: 100 } }, proc), undefined);
    assert.equal(sandboxOfAttach(attach({ processId: 999 }), proc), undefined);
    assert.equal(sandboxOfAttach(attach({ processId: -1 }), proc), undefined);
  });
});
