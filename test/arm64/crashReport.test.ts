// gVisor's die path in a real crash report: minibluepill dies the way dieAndDumpExitReason makes
// a vCPU die (the exit in R9-R14, the PC set to the marker 0xabc, inside entersyscall as
// vCPU.SwitchToUser is), and the Go runtime of each architecture prints its real report: ARM64
// under qemu-user, amd64 on the host. The CLI decodes it with the binary's symbols.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { buildFixture, minibluepillDieExit } from '../support/fixtures';
import { cliBundle, repoRoot } from '../support/paths';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { KVM_EXIT_REASONS } from '../../adapter/bluepill/dieMarkers';

function crashReportOf(binary: string, arch: 'amd64' | 'arm64'): string {
  const command = arch === 'arm64' ? ['qemu-aarch64-static', binary] : [binary];
  const r = spawnSync(command[0], [...command.slice(1), '-die-with-exit-reason'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, `the Go runtime exits with status 2 after a fatal signal (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-1500)}`);
  return r.stderr;
}

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, [cliBundle, ...args], { encoding: 'utf8', input, timeout: 60_000 });
}

for (const arch of ['arm64', 'amd64'] as const) {
  describe(`a vCPU's death in a real ${arch} crash report, decoded`, () => {
    const binary = buildFixture('minibluepill', { goarch: arch });
    const report = crashReportOf(binary, arch);
    const trap = readElfFunctions(binary).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!;
    const [reason, ...data] = minibluepillDieExit();

    it('the Go runtime printed a fatal SIGSEGV at the marker with a register dump (not a panic)', () => {
      assert.match(report, /^SIGSEGV: segmentation violation\nPC=0xabc m=\d+ sigcode=1 addr=0xabc$/m);
      assert.doesNotMatch(report, /^panic:/m);
      assert.match(report, /^r9 +0x[0-9a-f]+$/m);
      assert.match(report, arch === 'arm64' ? /^pc +0xabc$/m : /^rip +0xabc$/m);
    });

    it('names the exit reason, the data and the original PC by the binary\'s symbols', () => {
      const r = cli(['crash', '--binary', binary, '-'], report);
      assert.equal(r.status, 0, r.stderr);
      const name = KVM_EXIT_REASONS[Number(reason)];
      assert.ok(name, `the fixture's exit reason ${reason} is one gVisor names`);
      assert.match(r.stdout, new RegExp(`^Crash report \\(${arch}\\): fatal SIGSEGV at PC 0xabc`));
      assert.ok(r.stdout.includes(`vCPU died: exit reason ${name} (${reason}), data ${data.map((d) => `0x${d.toString(16)}`).join(' ')}, at PC 0x${trap.address.toString(16)} (minibluepill/kvm.bluepill.abi0)`), r.stdout);
      assert.ok(r.stdout.includes(`original PC in ${arch === 'arm64' ? 'X9' : 'R9'}`));
    });

    it('a binary that is not the one that crashed (another program; the other arch): said, and none of its names used', () => {
      for (const wrong of [buildFixture('hello', { goarch: arch }), buildFixture('minibluepill', { goarch: arch === 'arm64' ? 'amd64' : 'arm64' })]) {
        const r = cli(['crash', '--binary', wrong, '-'], report);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^warning: .*${path.basename(wrong)} is not the program that crashed \\((at pc=0x[0-9a-f]+ the report's traceback names minibluepill/kvm\\.BluepillInSyscall|the report is of an ${arch} program)`, 'm'), r.stdout);
        assert.ok(r.stdout.includes(`at PC 0x${trap.address.toString(16)}.`), `the PC unnamed: ${r.stdout}`);
      }
    });

    it('a report cut before its register dump: says the text stops before the registers, not that the fault became a panic', () => {
      const cut = report.split('\n').slice(0, 3).join('\n');
      const r = cli(['crash', '-'], cut);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /It is a fatal signal \("PC=0xabc"\), whose report lists the registers after the goroutines: the text given stops before them \(\d+ lines?\)\. Give the whole of what runsc wrote to stderr\.$/m);
      assert.doesNotMatch(r.stdout, /became a panic/);
    });

    it('--json: the registers as printed, the signal, and the finding', () => {
      const r = cli(['crash', '--json', '-'], report);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.arch, arch);
      assert.deepEqual(j.signal, { kind: 'fatal', name: 'SIGSEGV', pc: '0xabc', addr: '0xabc' });
      assert.equal(j.registers.r9, `0x${trap.address.toString(16)}`, 'R9 holds the PC the guest exit would have resumed at: the trap');
      assert.equal(j.registers.r10, `0x${reason.toString(16)}`);
      assert.equal(j.registers[arch === 'arm64' ? 'pc' : 'rip'], '0xabc');
      assert.equal(j.goroutine.state, 'syscall', 'the thread died inside entersyscall, as in vCPU.SwitchToUser');
      assert.equal(j.findings.length, 1);
      assert.equal(j.findings[0].severity, 'error');
    });
  });
}

describe('crash report inputs', () => {
  it('a file that holds no crash report: exit 1 and what to give', () => {
    const r = cli(['crash', path.join(repoRoot, 'package.json')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no crash report in .*package\.json \(\d+ lines\): give what runsc wrote to stderr/);
  });

  it('the same report as a file, with a binary that is not ELF: exit 1, what to give', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-crash-'));
    try {
      const file = path.join(dir, 'crash.txt');
      fs.writeFileSync(file, 'fatal error: exit_mmio\n');
      const r = cli(['crash', '--binary', file, file]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /--binary takes the runsc \(an ELF binary with symbols\) that crashed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the crash facts are what the sources give now', () => {
  it('tools/gen-crash-facts.mjs reproduces adapter/bluepill/crashFacts.generated.ts', () => {
    const pinned = /GVISOR_VERSION:-(v[^}]+)}/.exec(fs.readFileSync(path.join(repoRoot, 'tools', 'build-runsc.sh'), 'utf8'))![1];
    execFileSync('go', ['mod', 'download', `gvisor.dev/gvisor@${pinned}`], { cwd: path.join(repoRoot, 'tools', 'guestcode'), stdio: 'ignore' }); // into the module cache the generator reads
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-facts-')), 'facts.ts');
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'gen-crash-facts.mjs'), '--out', out], { encoding: 'utf8' });
    assert.equal(fs.readFileSync(out, 'utf8'), fs.readFileSync(path.join(repoRoot, 'adapter', 'bluepill', 'crashFacts.generated.ts'), 'utf8'));
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
