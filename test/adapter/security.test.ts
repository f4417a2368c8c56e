// Security properties, checked on real processes: the dlv we spawn listens on loopback
// only, nothing goes through a shell, remote mode over a network warns once, and no
// log or trace holds the values of `env`.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultHooks } from '../../adapter/hooks';
import { TraceFile } from '../../adapter/dap/traceFile';
import { buildFixture } from '../support/fixtures';
import { ensureDlv } from '../support/paths';
import { spawnListeningDlv } from '../support/client';
import { InProcessSession } from '../support/inProcess';
import { dlvPids, expectNoNewDlv } from '../support/processes';

/** The TCP addresses a process listens on, from /proc (no ss or netstat needed). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set(
    fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m ? [m[1]] : [];
      } catch {
        return [];
      }
    }),
  );
  const result: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of fs.readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue; // 0A: LISTEN
      const [hex, port] = f[1].split(':');
      const ip = table === 'tcp' ? Buffer.from(hex, 'hex').reverse().join('.') : hex;
      result.push(`${ip}:${parseInt(port, 16)}`);
    }
  }
  return result;
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function networkAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

describe('security', () => {
  let program: string;
  let dlvPath: string;
  const sessions: InProcessSession[] = [];
  const dlvBefore = dlvPids();
  const open = (o: ConstructorParameters<typeof InProcessSession>[0]) => {
    const s = new InProcessSession(o);
    sessions.push(s);
    return s;
  };
  before(() => {
    program = buildFixture('hello');
    dlvPath = ensureDlv();
  });
  after(async () => {
    for (const s of sessions) await s.close();
    await expectNoNewDlv(dlvBefore);
  });

  it('a dlv the proxy spawns listens on 127.0.0.1 only, and dlvFlags cannot change that', async () => {
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks() });
    await s.request('initialize', { adapterID: 'bluepill' });
    const launch = await s.request('launch', { mode: 'exec', program, args: ['-forever'] });
    assert.ok(launch?.success, launch?.message);
    const addresses = listeningAddresses(s.proxy.dlvPid!);
    assert.ok(addresses.length > 0, 'dlv listens somewhere');
    for (const a of addresses) assert.match(a, /^127\.0\.0\.1:\d+$/, `dlv listens on ${a}`);
    await s.request('disconnect', { terminateDebuggee: true });

    const widened = open({ defaults: { dlvPath }, hooks: defaultHooks() });
    await widened.request('initialize', { adapterID: 'bluepill' });
    const refused = await widened.request('launch', { mode: 'exec', program, dlvFlags: ['--listen=0.0.0.0:0'] });
    assert.equal(refused?.success, false);
    assert.match(String(refused?.message), /"dlvFlags" may not hold "--listen=0\.0\.0\.0:0"/);
    assert.equal(widened.proxy.dlvPid, undefined, 'no dlv was started');
  });

  it('a dlv that listens off loopback anyway (a wrapper adds --listen=0.0.0.0:0) is ended by its pid, with a message (issue 19.8)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-widen-'));
    try {
      const wrapper = path.join(dir, 'dlv');
      // pflag keeps the last --listen: this real dlv listens on every interface.
      fs.writeFileSync(wrapper, `#!/bin/sh\nexec '${dlvPath}' "$@" --listen=0.0.0.0:0\n`, { mode: 0o755 });
      const s = open({ defaults: { dlvPath: wrapper }, hooks: defaultHooks() });
      await s.request('initialize', { adapterID: 'bluepill' });
      const refused = await s.request('launch', { mode: 'exec', program });
      assert.equal(refused?.success, false);
      const m = /dlv listened on (\S+), which is not loopback, so it was ended \(pid (\d+)\)/.exec(String(refused?.message));
      assert.ok(m, String(refused?.message));
      assert.match(m[1], /^(0\.0\.0\.0|0:0:0:0:0:0:0:0):\d+$/);
      const pid = Number(m[2]);
      for (let i = 0; i < 50 && fs.existsSync(`/proc/${pid}`) && !/\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!fs.existsSync(`/proc/${pid}`) || /\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')), `dlv ${pid} was ended`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no shell: a program path, dlv path and arguments with spaces, quotes, ; and $(...) reach their process literally', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-shell-'));
    const odd = path.join(dir, `we ird; $(touch PWNED) 'q" dir`);
    fs.mkdirSync(odd);
    const oddProgram = path.join(odd, 'hello $(id)');
    const oddDlv = path.join(odd, 'dlv `id`');
    fs.copyFileSync(program, oddProgram);
    fs.copyFileSync(dlvPath, oddDlv);
    fs.chmodSync(oddProgram, 0o755);
    fs.chmodSync(oddDlv, 0o755);
    const args = ['a b', `"q'`, ';echo hi', `$(touch ${dir}/PWNED2)`, '`id`', '*'];
    const s = open({ hooks: defaultHooks() });
    try {
      await s.request('initialize', { adapterID: 'bluepill' });
      const launch = await s.request('launch', { mode: 'exec', program: oddProgram, dlvPath: oddDlv, args: ['-echo', ...args] });
      assert.ok(launch?.success, launch?.message);
      await s.request('configurationDone');
      await s.event('terminated', 0);
      const output = s.events('output').map((e) => String(e.body?.output)).join('');
      assert.ok(output.includes(`args ${JSON.stringify(args)}`), `the program saw its arguments literally:\n${output}`);
      assert.deepEqual(fs.readdirSync(dir), [path.basename(odd)], 'no command substitution ran (PWNED2)');
      for (const where of [odd, process.cwd(), path.dirname(oddDlv)]) assert.ok(!fs.existsSync(path.join(where, 'PWNED')), `no PWNED in ${where}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remote mode to a host across a network warns once that the dlv port has no authentication, and points to an SSH tunnel', async (t) => {
    const ip = networkAddress();
    if (!ip) {
      console.log('skipped: this machine has no non-loopback IPv4 address');
      t.skip('no non-loopback address');
      return;
    }
    const board = await spawnListeningDlv(['--headless', `--listen=${ip}:0`, '--accept-multiclient', '--api-version=2', 'exec', program, '--', '-forever']);
    const s = open({ hooks: defaultHooks() });
    try {
      await s.request('initialize', { adapterID: 'bluepill' });
      const attach = await s.request('attach', { mode: 'remote', host: ip, port: board.port });
      assert.ok(attach?.success, attach?.message);
      const warnings = s.events('output').filter((e) => e.body?.category === 'important' && /no authentication/.test(String(e.body?.output)));
      assert.equal(warnings.length, 1, 'one warning');
      assert.match(String(warnings[0].body.output), new RegExp(`ssh -N -L ${board.port}:127\\.0\\.0\\.1:${board.port} user@${ip.replace(/\./g, '\\.')}`));
      await s.request('disconnect', { terminateDebuggee: true });
    } finally {
      await board.stop();
    }

    // Loopback (an SSH tunnel's end) is not warned about.
    const local = await spawnListeningDlv(['--headless', '--listen=127.0.0.1:0', '--accept-multiclient', '--api-version=2', 'exec', program, '--', '-forever']);
    const quiet = open({ hooks: defaultHooks() });
    try {
      await quiet.request('initialize', { adapterID: 'bluepill' });
      assert.ok((await quiet.request('attach', { mode: 'remote', host: '127.0.0.1', port: local.port }))?.success);
      assert.ok(!quiet.events('output').some((e) => /no authentication/.test(String(e.body?.output))));
      await quiet.request('disconnect', { terminateDebuggee: true });
    } finally {
      await local.stop();
    }
  });

  it('the log and the DAP trace never hold the values (or names) passed in env', async () => {
    const secret = `s3cr3t-${process.pid}-value`;
    const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-trace-')), 'trace.jsonl');
    const trace = new TraceFile(traceFile);
    const s = open({ defaults: { dlvPath }, hooks: defaultHooks(), observe: trace.observe });
    await s.request('initialize', { adapterID: 'bluepill' });
    const launch = await s.request('launch', { mode: 'exec', program, args: ['-print'], env: { BLUEPILL_TOKEN_NAME: secret } });
    assert.ok(launch?.success, launch?.message);
    await s.request('configurationDone');
    await s.event('terminated', 0);
    await s.close();
    trace.close();
    const written = fs.readFileSync(traceFile, 'utf8');
    assert.ok(written.split('\n').length > 5, 'the trace recorded the session');
    assert.ok(!written.includes(secret) && !written.includes('BLUEPILL_TOKEN_NAME'), 'the trace holds no env value or name');
    assert.ok(!s.log.join('\n').includes(secret), 'the proxy log holds no env value');
  });
});
