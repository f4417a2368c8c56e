// The CLI front end: `bluepill-lens adapter` with flags speaks DAP on stdio, and
// `bluepill-lens processes` lists what the picker lists.
import { after, afterEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { openSession, RecordingClient } from '../support/client';
import { cliBundle, ensureBundles, ensureDlv } from '../support/paths';
import { dlvPids, expectNoNewDlv, startProcess, stopAll } from '../support/processes';

describe('bluepill-lens CLI', () => {
  const before_ = dlvPids();
  afterEach(stopAll);
  after(() => expectNoNewDlv(before_));

  it('`adapter --dlv-path` runs a working DAP session on stdio', async () => {
    ensureBundles();
    const env = { ...process.env, PATH: '/usr/bin:/bin', BLUEPILL_DLV_PATH: '' };
    const child = spawn(process.execPath, [cliBundle, 'adapter', '--dlv-path', ensureDlv()], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    const dc = new RecordingClient('unused', 'unused');
    dc.attachStreams(child.stdout!, child.stdin!);
    try {
      const program = buildFixture('hello');
      await openSession(dc, 'launch', { mode: 'exec', program });
      await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      await stopped;
      const stack = await dc.stackTraceRequest({ threadId: 1, levels: 1 });
      assert.equal(stack.body.stackFrames[0].name, 'main.square');
      await dc.disconnectRequest({});
    } finally {
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('`adapter` with a bad flag says what it wants', () => {
    assert.throws(
      () => execFileSync(process.execPath, [cliBundle, 'adapter', '--connect', 'nowhere'], { encoding: 'utf8', stdio: 'pipe' }),
      (e: { status: number; stderr: string }) => e.status === 2 && /--connect wants HOST:PORT/.test(e.stderr),
    );
  });

  it('`sysreg NAME --value V` decodes a value field by field', () => {
    const [esr] = JSON.parse(execFileSync(process.execPath, [cliBundle, 'sysreg', 'ESR_EL1', '--value', '0x56000000', '--json'], { encoding: 'utf8' }));
    assert.match(esr.summary, /^EC 0x15: SVC \(AArch64\)/);
    const spsr = execFileSync(process.execPath, [cliBundle, 'sysreg', 'S3_0_C4_C0_0', '--value', '0x3c5'], { encoding: 'utf8' });
    assert.match(spsr, /^SPSR_EL1 = 0x3c5: EL1h/);
    // Layouts generated from Linux's description: MIDR_EL1 names the CPU, TTBR1_EL1 splits ASID and BADDR.
    const midr = execFileSync(process.execPath, [cliBundle, 'sysreg', 'MIDR_EL1', '--value', '0x410fd083'], { encoding: 'utf8' });
    assert.match(midr, /^MIDR_EL1 = 0x410fd083: ARM CORTEX_A72 r0p3/);
    const ttbr = execFileSync(process.execPath, [cliBundle, 'sysreg', 'TTBR1_EL1', '--value', '0x2a000041234001'], { encoding: 'utf8' });
    assert.match(ttbr, /ASID +0x2a/);
    assert.throws(() => execFileSync(process.execPath, [cliBundle, 'sysreg', 'TPIDR_EL0', '--value', '1'], { stdio: 'pipe' }), /no field layout for TPIDR_EL0: Linux's arch\/arm64\/tools\/sysreg/);
    const wide = spawnSync(process.execPath, [cliBundle, 'sysreg', 'ESR_EL1', '--value', '0x1ffffffffffffffff'], { encoding: 'utf8' });
    assert.equal(wide.status, 2);
    assert.match(wide.stderr, /--value 0x1ffffffffffffffff is wider than 64 bits/);
    assert.equal(wide.stdout, '');
    const both = spawnSync(process.execPath, [cliBundle, 'sysreg', '--all', '--tsv', '--json'], { encoding: 'utf8' });
    assert.match(both.stderr, /give --tsv or --json, not both/);
    // A full disk: one line that says so, and a failing status (not a stack trace).
    const full = fs.openSync('/dev/full', 'w');
    try {
      for (const args of [['sysreg', 'TPIDR_EL1'], ['--help']]) {
        const r = spawnSync(process.execPath, [cliBundle, ...args], { encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
        assert.equal(r.status, 1, args.join(' '));
        assert.equal(r.stderr, 'bluepill-lens: cannot write the output: no space left on the device.\n');
      }
    } finally {
      fs.closeSync(full);
    }
  });

  it('`explain` on amd64: the CLI trap, from the binary and from its listing', () => {
    const binary = buildFixture('minibluepill');
    const listing = execFileSync('go', ['tool', 'objdump', '-s', 'minibluepill/kvm', binary], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const line = listing.split('\n').find((l) => /\tCLI\s*$/.test(l))!;
    const address = /0x[0-9a-f]+/.exec(line)![0];
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'explain-amd64-')), 'mini.objdump');
    fs.writeFileSync(file, listing);
    for (const source of [['--binary', binary], ['--objdump', file]]) {
      const e = JSON.parse(execFileSync(process.execPath, [cliBundle, 'explain', ...source, address, '--json'], { encoding: 'utf8' }));
      assert.equal(e.where, 'minibluepill/kvm.bluepill', source[0]);
      assert.equal(e.instruction, 'CLI', source[0]);
      assert.equal(e.landmark.role, 'trap-instruction', source[0]);
      assert.match(e.inHost, /SIGSEGV/, source[0]);
      // The source line: the listing's own column (a base name), and from the binary its Go line table (as go tool addr2line).
      assert.match(e.source ?? '', /bluepill_amd64\.s:\d+$/, source[0]);
      if (source[0] === '--binary') assert.equal(e.source, execFileSync('go', ['tool', 'addr2line', binary], { input: `${address}\n`, encoding: 'utf8' }).split('\n')[1]);
    }
  });

  it('`explain --objdump` on what is no listing (a binary, an empty file): says so, not that the address is missing; linker-made lines at ":-1" are found', () => {
    const binary = buildFixture('hello');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'explain-listing-'));
    try {
      const empty = path.join(dir, 'empty');
      fs.writeFileSync(empty, '');
      for (const notListing of [binary, empty]) {
        const r = spawnSync(process.execPath, [cliBundle, 'explain', '--objdump', notListing, '0x401000'], { encoding: 'utf8' });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /is not a go tool objdump listing: it has no instruction line\. Give the text that `go tool objdump BINARY` prints, or the binary itself with --binary\./);
      }
      const listing = execFileSync('go', ['tool', 'objdump', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
      const unplaced = listing.split('\n').find((l) => /^\s+:-1\s+0x[0-9a-f]+\s/.test(l));
      assert.ok(unplaced, 'the listing has an instruction without a source position');
      const address = /0x[0-9a-f]+/.exec(unplaced)![0];
      const file = path.join(dir, 'hello.objdump');
      fs.writeFileSync(file, listing);
      const e = JSON.parse(execFileSync(process.execPath, [cliBundle, 'explain', '--objdump', file, address, '--json'], { encoding: 'utf8' }));
      assert.equal(e.address, address);
      assert.equal(e.source, undefined, 'no source position');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`processes` lists a running Go program, and says when no sandbox runs', async () => {
    const target = await startProcess(buildFixture('hello'), ['-forever'], /ready/);
    const json = JSON.parse(execFileSync(process.execPath, [cliBundle, 'processes', '--json'], { encoding: 'utf8' }));
    const entry = json.find((p: { pid: number }) => p.pid === target.pid);
    assert.ok(entry, 'the fixture is listed');
    assert.equal(entry.name, 'hello');
    const text = execFileSync(process.execPath, [cliBundle, 'processes'], { encoding: 'utf8' });
    assert.match(text, new RegExp(`hello \\(pid ${target.pid}\\)`));
    if (!json.some((p: { sandbox?: unknown }) => p.sandbox)) assert.match(text, /no runsc sandbox is running/);
  });
});
