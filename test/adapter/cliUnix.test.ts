// The CLI as Unix and Go users expect it (issue 18 part 3) and its hostile inputs (issue 19
// item 7): the real dist/cli.js in a real process, exact output and exit status.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture } from '../support/fixtures';
import { cliBundle, repoRoot } from '../support/paths';
import { startProcess, stopAll } from '../support/processes';

const COMMANDS = ['sysreg', 'annotate', 'explain', 'crash', 'adapter', 'processes'];

function cli(args: string[], opts: { input?: string | Buffer; stdin?: number | 'pipe'; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliBundle, ...args], {
    encoding: 'utf8',
    input: opts.input,
    stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
    cwd: opts.cwd,
    timeout: 60_000, // a hang fails the test instead of stalling the suite
    maxBuffer: 1 << 28,
  });
}

/** A shell pipeline run with pipefail: its status is the first failing command's. */
function shell(script: string): SpawnSyncReturns<string> {
  return spawnSync('bash', ['-o', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CLI: cliBundle, NODE: process.execPath } });
}

/** "0x1234" of a line of `readelf -SW` (GNU binutils: an independent reader of the section table). */
function sectionAddress(binary: string, name: string): bigint {
  const line = execFileSync('readelf', ['-SW', binary], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.includes(` ${name} `))!;
  const fields = line.replace(/^\s*\[\s*\d+\]\s*/, '').split(/\s+/);
  return BigInt(`0x${fields[2]}`);
}

/** Peak RSS in MB from GNU time's -v report on stderr. */
function peakRssMb(stderr: string): number {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  assert.ok(m, `no RSS in: ${stderr}`);
  return Number(m[1]) / 1024;
}

/**
 * A minimal x86-64 ELF: .text (16 NOPs at 0x401000, executable), .rodata (0x402000, loaded,
 * not executable), and `symbols` FUNC symbols that all name the same long string in .strtab.
 */
function craftedElf(symbols: number, nameLength: number): Buffer {
  const text = Buffer.alloc(16, 0x90);
  const rodata = Buffer.alloc(16, 0x41);
  const symtab = Buffer.alloc((symbols + 1) * 24);
  for (let i = 1; i <= symbols; i++) {
    const o = i * 24;
    symtab.writeUInt32LE(1, o); // every name starts at the same offset of .strtab
    symtab[o + 4] = 0x12; // GLOBAL FUNC
    symtab.writeUInt16LE(1, o + 6);
    symtab.writeBigUInt64LE(0x401000n, o + 8);
    symtab.writeBigUInt64LE(16n, o + 16);
  }
  const strtab = Buffer.concat([Buffer.from([0]), Buffer.alloc(nameLength, 'a'), Buffer.from([0])]);
  const shstrtab = Buffer.from('\0.text\0.rodata\0.symtab\0.strtab\0.shstrtab\0');
  const parts = [text, rodata, symtab, strtab, shstrtab];
  const offsets: number[] = [];
  let at = 64;
  for (const p of parts) {
    offsets.push(at);
    at += p.length;
  }
  const shoff = at;
  const header = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
  header.writeUInt16LE(2, 16); // ET_EXEC
  header.writeUInt16LE(62, 18); // x86-64
  header.writeUInt32LE(1, 20);
  header.writeBigUInt64LE(0x401000n, 24);
  header.writeBigUInt64LE(BigInt(shoff), 40);
  header.writeUInt16LE(64, 52);
  header.writeUInt16LE(64, 58);
  header.writeUInt16LE(6, 60);
  header.writeUInt16LE(5, 62);
  const sh = Buffer.alloc(6 * 64);
  const section = (i: number, name: number, type: number, flags: number, addr: bigint, part: number, link = 0, entsize = 0) => {
    const o = i * 64;
    sh.writeUInt32LE(name, o);
    sh.writeUInt32LE(type, o + 4);
    sh.writeBigUInt64LE(BigInt(flags), o + 8);
    sh.writeBigUInt64LE(addr, o + 16);
    sh.writeBigUInt64LE(BigInt(offsets[part]), o + 24);
    sh.writeBigUInt64LE(BigInt(parts[part].length), o + 32);
    sh.writeUInt32LE(link, o + 40);
    sh.writeBigUInt64LE(BigInt(entsize), o + 56);
  };
  section(1, 1, 1, 6, 0x401000n, 0); // .text: PROGBITS, ALLOC|EXECINSTR
  section(2, 7, 1, 2, 0x402000n, 1); // .rodata: PROGBITS, ALLOC
  section(3, 15, 2, 0, 0n, 2, 4, 24); // .symtab, names in section 4
  section(4, 23, 3, 0, 0n, 3); // .strtab
  section(5, 31, 3, 0, 0n, 4); // .shstrtab
  return Buffer.concat([header, ...parts, sh]);
}

describe('bluepill-lens CLI, the Unix way', () => {
  let tmp: string;
  let binary: string;
  let listing: string;
  let cliAddress: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-unix-'));
    binary = buildFixture('minibluepill');
    listing = path.join(tmp, 'mini.objdump');
    fs.writeFileSync(listing, execFileSync('go', ['tool', 'objdump', binary], { encoding: 'utf8', maxBuffer: 1 << 28 }));
    const line = fs.readFileSync(listing, 'utf8').split('\n').find((l) => /\tCLI\s*$/.test(l))!;
    cliAddress = /0x[0-9a-f]+/.exec(line)![0];
  });
  after(async () => {
    await stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('--version prints the package version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const r = cli(['--version']);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, `bluepill-lens ${version}\n`, '']);
  });

  it('-h, --help and `help NAME` print the same usage for every command, on stdout, status 0', () => {
    for (const name of COMMANDS) {
      const short = cli([name, '-h']);
      assert.deepEqual([short.status, short.stderr], [0, ''], name);
      assert.ok(short.stdout.startsWith(`Usage: bluepill-lens ${name} `), short.stdout);
      assert.match(short.stdout, /-h, --help {2}show this text\n$/);
      assert.equal(cli([name, '--help']).stdout, short.stdout, name);
      assert.equal(cli(['help', name]).stdout, short.stdout, name);
      // help wins over the missing arguments that would be an error
      assert.equal(cli([name, '--help', 'x', 'y', 'z']).status, 0);
    }
    const top = cli(['--help']);
    assert.equal(top.status, 0);
    for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'));
    const none = cli([]);
    assert.deepEqual([none.status, none.stdout, none.stderr], [2, '', top.stdout], 'no command: the usage on stderr, status 2');
    for (const flag of ['--help', '-h']) assert.deepEqual([cli(['help', flag]).status, cli(['help', flag]).stdout], [0, top.stdout], `help ${flag}`);
  });

  it('guest --pid that is no pid: says which value is not one', () => {
    const r = cli(['guest', '--pid', 'abc']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^bluepill-lens guest: "abc" is not a pid: give the pid of the runsc-sandbox process with --pid PID/);
  });

  it('an unknown option is a usage error: status 2, the message and one usage line on stderr', () => {
    const r = cli(['explain', '--bogus', '--binary', binary, cliAddress]);
    assert.deepEqual(
      [r.status, r.stdout, r.stderr],
      [
        2,
        '',
        'bluepill-lens explain: unknown option --bogus. (An argument that starts with - goes after --, as in: -- --bogus)\n' +
          'Usage: bluepill-lens explain (--pid PID | --binary FILE | --objdump FILE) ADDRESS [--json]   (more: bluepill-lens explain --help)\n',
      ],
    );
    for (const name of COMMANDS) {
      const each = cli([name, '--no-such-option']);
      assert.equal(each.status, 2, name);
      assert.equal(each.stderr.split('\n').length, 3, `${name}: two lines: ${each.stderr}`);
    }
    const before = cli(['--json', 'processes']);
    assert.deepEqual([before.status, before.stderr.split('\n')[0]], [2, 'bluepill-lens: unknown option --json: options go after the command, as in bluepill-lens processes --json.']);
    assert.equal(cli(['frobnicate']).status, 2);
    assert.match(cli(['frobnicate']).stderr, /^bluepill-lens: unknown command "frobnicate" \(the commands are sysreg, annotate, explain, crash, guest, adapter, processes\)\.\n/);
  });

  it('an extra argument is a usage error, with status 2', () => {
    const r = cli(['processes', 'extra']);
    assert.deepEqual([r.status, r.stdout, r.stderr], [2, '', 'bluepill-lens processes: unexpected argument "extra".\nUsage: bluepill-lens processes [--json]   (more: bluepill-lens processes --help)\n']);
    for (const args of [['annotate', listing, listing], ['explain', '--binary', binary, cliAddress, '0x1'], ['adapter', 'x'], ['--version', 'x'], ['help', 'explain', 'x']]) {
      assert.equal(cli(args).status, 2, args.join(' '));
    }
  });

  it('-- ends the options: a file named -h is read, not taken for --help', () => {
    fs.copyFileSync(listing, path.join(tmp, '-h'));
    const r = cli(['annotate', '--', '-h'], { cwd: tmp });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, cli(['annotate', listing]).stdout);
    assert.ok(r.stdout.length > 1_000_000);
  });

  it('- reads standard input: annotate, explain --objdump and explain --binary', () => {
    const fromFile = cli(['annotate', listing]).stdout;
    assert.equal(cli(['annotate', '-'], { input: fs.readFileSync(listing) }).stdout, fromFile);
    assert.equal(cli(['annotate'], { input: fs.readFileSync(listing) }).stdout, fromFile);
    const strip = (json: string) => ({ ...JSON.parse(json), origin: undefined });
    const objdump = cli(['explain', '--objdump', '-', cliAddress, '--json'], { input: fs.readFileSync(listing) });
    assert.equal(objdump.status, 0, objdump.stderr);
    assert.deepEqual(strip(objdump.stdout), strip(cli(['explain', '--objdump', listing, cliAddress, '--json']).stdout));
    assert.equal(JSON.parse(objdump.stdout).origin, 'the listing standard input');
    const elf = cli(['explain', '--binary', '-', cliAddress, '--json'], { stdin: fs.openSync(binary, 'r') });
    assert.equal(elf.status, 0, elf.stderr);
    assert.deepEqual(strip(elf.stdout), strip(cli(['explain', '--binary', binary, cliAddress, '--json']).stdout));
    assert.equal(JSON.parse(elf.stdout).instruction, 'CLI');
  });

  it('a reader that stops early (| head -1) ends the command quietly, with status 0', () => {
    const big = path.join(tmp, 'big.objdump');
    fs.writeFileSync(big, fs.readFileSync(listing));
    for (let i = 0; i < 3; i++) fs.appendFileSync(big, fs.readFileSync(listing)); // ~45 MB: far more than a pipe holds
    for (const command of [`"$NODE" "$CLI" annotate '${big}'`, `"$NODE" "$CLI" annotate - < '${big}'`, '"$NODE" "$CLI" sysreg --all --json', '"$NODE" "$CLI" sysreg --all --tsv', '"$NODE" "$CLI" processes']) {
      const r = shell(`${command} | head -1`);
      assert.deepEqual([r.status, r.stderr], [0, ''], command);
      assert.equal(r.stdout.split('\n').length, 2, command);
    }
  });

  it('--json: explain prints one object, sysreg and processes one array, whatever the input', () => {
    const one = JSON.parse(cli(['sysreg', 'TPIDR_EL1', '--json']).stdout);
    assert.ok(Array.isArray(one) && one.length === 1 && one[0].name === 'TPIDR_EL1');
    assert.equal(JSON.parse(cli(['sysreg', 'TPIDR_EL1', '$18052', '--json']).stdout).length, 2);
    const bad = cli(['sysreg', 'NOT_A_REGISTER', '--json']);
    assert.equal(bad.status, 1);
    assert.ok(Array.isArray(JSON.parse(bad.stdout)) && JSON.parse(bad.stdout)[0].input === 'NOT_A_REGISTER');
    const value = JSON.parse(cli(['sysreg', 'ESR_EL1', '--value', '0x56000000', '--json']).stdout);
    assert.ok(Array.isArray(value) && value.length === 1);
    assert.match(value[0].summary, /^EC 0x15: SVC \(AArch64\)/);
    const all = JSON.parse(cli(['sysreg', '--all', '--json']).stdout);
    assert.equal(all.length, 1 << 15);
    const tpidr = all[18052]; // dlv's $18052
    assert.deepEqual(tpidr, { field: 18052, generic: 'S3_0_C13_C0_4', mrsName: 'TPIDR_EL1', msrName: 'TPIDR_EL1', minEl: 1 });
    const tsv = cli(['sysreg', '--all', '--tsv']).stdout.split('\n');
    assert.equal(tsv[1 + tpidr.field], `${tpidr.field}\tS3_0_C13_C0_4\tTPIDR_EL1\tTPIDR_EL1\t1`);
    assert.equal(cli(['sysreg', '--all']).status, 2, '--all needs --tsv or --json');
    assert.ok(Array.isArray(JSON.parse(cli(['processes', '--json']).stdout)));
    const code = JSON.parse(cli(['explain', '--binary', binary, cliAddress, '--json']).stdout);
    assert.deepEqual([code.kind, code.instruction], ['code', 'CLI']);
  });

  it('explain --binary decodes only executable sections: .rodata and .bss are data, an unloaded address is outside', () => {
    const rodata = sectionAddress(binary, '.rodata') + 0x10n;
    const r = cli(['explain', '--binary', binary, `0x${rodata.toString(16)}`]);
    assert.deepEqual(
      [r.status, r.stdout, r.stderr],
      [0, `0x${rodata.toString(16)} is data, not code: it is in .rodata of ${binary}, a section that is not executable. explain takes the address of an instruction (a PC).\n`, ''],
    );
    const bss = sectionAddress(binary, '.bss');
    assert.deepEqual(JSON.parse(cli(['explain', '--binary', binary, `0x${bss.toString(16)}`, '--json']).stdout), {
      kind: 'data',
      address: `0x${bss.toString(16)}`,
      section: '.bss',
      origin: `the ELF sections of ${binary}`,
    });
    const outside = cli(['explain', '--binary', binary, '0x10']);
    assert.equal(outside.status, 1);
    assert.match(outside.stderr, /^bluepill-lens explain: 0x10 is outside the program: no section that .* loads holds it \(they span 0x400f78–0x[0-9a-f]+\)\. Give an address of its code, e\.g\. a PC from dlv or from go tool objdump\.\n$/);
    // The crafted ELF: its .rodata holds bytes that decode as instructions (0x41 is a REX prefix) but are data.
    const crafted = path.join(tmp, 'crafted.elf');
    fs.writeFileSync(crafted, craftedElf(1, 4));
    assert.match(cli(['explain', '--binary', crafted, '0x402000']).stdout, /^0x402000 is data, not code: it is in \.rodata/);
    const nop = JSON.parse(cli(['explain', '--binary', crafted, '0x401000', '--json']).stdout);
    assert.deepEqual([nop.kind, nop.where, nop.instruction], ['code', 'aaaa', 'NOPL']);
  });

  it('explain --binary on a FIFO, a directory, a missing file, a text file or an ELF for another machine: a clear error at once', () => {
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = cli(['explain', '--binary', fifo, '0x1']);
    assert.deepEqual(
      [r.status, r.stdout, r.stderr],
      [1, '', `bluepill-lens explain: "${fifo}" is a named pipe (FIFO): the binary must be a regular file. To read a stream, give - and send it to standard input (… < ${fifo}).\n`],
    );
    assert.equal(cli(['explain', '--objdump', fifo, '0x1']).status, 1);
    assert.equal(cli(['annotate', fifo]).status, 1);
    // Process substitution, <(command): the advice is the pipe, not the /dev/fd name that is gone.
    const substituted = spawnSync('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliBundle)} annotate <(echo x)`], { encoding: 'utf8' });
    assert.equal(substituted.status, 1);
    assert.match(substituted.stderr, /"\/dev\/fd\/\d+" is a named pipe \(FIFO\): the listing must be a regular file\. To read a stream, give - and send it to standard input \(command \| bluepill-lens … -\)\.\n$/);
    assert.equal(cli(['explain', '--binary', tmp, '0x1']).stderr, `bluepill-lens explain: "${tmp}" is a directory: give the binary file itself.\n`);
    assert.equal(cli(['explain', '--binary', 'no-such-runsc', '0x1'], { cwd: tmp }).stderr, `bluepill-lens explain: "no-such-runsc" does not exist (looked in ${tmp}): give the path of the binary.\n`);
    const arm32 = craftedElf(1, 4);
    arm32.writeUInt16LE(40, 18); // EM_ARM
    fs.writeFileSync(path.join(tmp, 'arm32.elf'), arm32);
    assert.deepEqual(cli(['explain', '--binary', path.join(tmp, 'arm32.elf'), '0x401000']).stderr, `bluepill-lens explain: ${path.join(tmp, 'arm32.elf')} is an ELF file for machine 40, not for arm64 (183) or amd64 (62): give a runsc (or Go program) built for one of those.\n`);
    assert.equal(cli(['explain', '--binary', listing, '0x1']).stderr, `bluepill-lens explain: ${listing} is not an ELF file: --binary takes an ELF binary such as runsc (for a go tool objdump listing, use --objdump).\n`);
  });

  it('explain --objdump on /dev/zero (a file or a stream) and on a 1 GB line: a clear error, no RangeError', async () => {
    const device = cli(['explain', '--objdump', '/dev/zero', '0x1']);
    assert.deepEqual([device.status, device.stderr], [1, 'bluepill-lens explain: "/dev/zero" is a character device: the listing must be a regular file. To read a stream, give - and send it to standard input (… < /dev/zero).\n']);
    const notListing = 'bluepill-lens explain: standard input is not a go tool objdump listing: its line 1 is longer than 16 MiB, and a listing\'s lines are short. Give the text that `go tool objdump BINARY` prints, or the binary itself with --binary.\n';
    const zero = cli(['explain', '--objdump', '-', '0x1'], { stdin: fs.openSync('/dev/zero', 'r') });
    assert.deepEqual([zero.status, zero.stdout, zero.stderr], [1, '', notListing]);
    const line = shell(`head -c 1073741824 /dev/zero | tr '\\0' ' ' | /usr/bin/time -v "$NODE" "$CLI" explain --objdump - 0x1; echo "status \${PIPESTATUS[2]}" >&2`);
    assert.ok(line.stderr.startsWith(notListing), line.stderr);
    assert.match(line.stderr, /status 1\n$/);
    assert.ok(peakRssMb(line.stderr) < 200, `peak RSS ${peakRssMb(line.stderr)} MB`);
  });

  it('annotate passes a 1 GB line through in constant memory, and names the MRS at its end', () => {
    // Generated through a pipe, never stored: a per-line buffer would hold the whole GB (2.1 GB RSS before).
    const countAndTail = `"$NODE" -e "let n = 0, t = Buffer.alloc(0); process.stdin.on('data', (d) => { n += d.length; t = Buffer.concat([t, d]).subarray(-48); }).on('end', () => process.stdout.write(n + ' ' + t))"`;
    const r = shell(`{ head -c 1073741824 /dev/zero | tr '\\0' ' '; printf '\\tMRS $18052, R10\\t\\n'; } | /usr/bin/time -v "$NODE" "$CLI" annotate | ${countAndTail}`);
    assert.equal(r.status, 0, r.stderr);
    const annotated = '\tMRS TPIDR_EL1, R10  // $18052 · EL1 only\t\n';
    assert.equal(r.stdout, `${1073741824 + Buffer.byteLength(annotated)} ${' '.repeat(48 - Buffer.byteLength(annotated))}${annotated}`);
    const rss = peakRssMb(r.stderr);
    assert.ok(rss < 200, `peak RSS ${rss} MB for a 1 GB line`);
  });

  it('explain --binary: 20,000 symbols sharing one 100 KB name cost one name, cut at 8 KB', () => {
    const crafted = path.join(tmp, 'shared-names.elf');
    fs.writeFileSync(crafted, craftedElf(20_000, 100_000));
    const r = shell(`/usr/bin/time -v "$NODE" "$CLI" explain --binary '${crafted}' 0x401000 --json`);
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.where, `${'a'.repeat(8192)}…`);
    const rss = peakRssMb(r.stderr);
    assert.ok(rss < 200, `peak RSS ${rss} MB`);
  });

  it('processes: newlines and escape codes in arguments are shown escaped; a process named runsc-sandbox boot is not a sandbox unless it runs runsc', async () => {
    // A forger: argv[0] runsc-sandbox with boot, a newline that would start a fake row, and red.
    const forged = spawn('/bin/sh', ['-c', 'echo ready; while :; do sleep 1; done', 'runsc-sandbox', 'boot', 'x\n* runsc-sandbox (pid 1) container forged', '\x1b[31mred'], { argv0: 'runsc-sandbox', stdio: ['ignore', 'pipe', 'ignore'] });
    // A real runsc name (a copy of sh named runsc), owned by root: ranked first.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-runsc-'));
    fs.chmodSync(dir, 0o755);
    const runsc = path.join(dir, 'runsc');
    fs.copyFileSync('/bin/sh', runsc);
    fs.chmodSync(runsc, 0o755);
    const script = 'echo ready; while :; do sleep 1; done';
    try {
      await new Promise((resolve) => forged.stdout!.once('data', resolve));
      const real = await startProcess(runsc, ['-c', script, 'sh', '--platform=kvm', 'boot', 'cid-root'], /ready/);
      // The same file run by another user (uid 4242): its owner is not one runsc uses.
      const other = await startProcess(runsc, ['-c', script, 'sh', 'boot', 'cid-other'], /ready/, { uid: 4242, gid: 4242 });
      const text = cli(['processes']);
      assert.equal(text.status, 0);
      const lines = text.stdout.split('\n');
      assert.equal(lines.filter((l) => /forged/.test(l)).length, 1, 'the newline did not make a row');
      const forgedLine = lines.find((l) => l.includes(`(pid ${forged.pid})`))!;
      assert.equal(forgedLine, `  sh (pid ${forged.pid})  runsc-sandbox -c echo ready; while :; do sleep 1; done runsc-sandbox boot x\\n* runsc-sandbox (pid 1) container forged \\x1b[31mred`);
      assert.ok(!text.stdout.includes('\x1b'), 'no raw escape');
      // Other sessions on this machine may run real sandboxes: only these three processes are judged.
      const sandboxes = lines.filter((l) => l.startsWith('* '));
      assert.ok(sandboxes.includes(`* runsc (pid ${real.pid}) container cid-root  ${runsc} -c ${script} sh --platform=kvm boot cid-root`), text.stdout);
      assert.ok(!sandboxes.some((l) => l.includes(`(pid ${forged.pid})`) || l.includes(`(pid ${other.pid})`)), text.stdout);
      assert.ok(lines.some((l) => l.startsWith(`  runsc (pid ${other.pid})`)), 'another user\'s runsc boot is listed, not ranked');
      const json = cli(['processes', '--json']).stdout;
      assert.ok(!json.includes('\x1b'));
      const entry = JSON.parse(json).find((p: { pid: number }) => p.pid === forged.pid);
      assert.deepEqual(entry.argv.slice(-2), ['x\n* runsc-sandbox (pid 1) container forged', '\x1b[31mred'], 'JSON keeps the data exact');
      assert.equal(entry.sandbox, undefined);
    } finally {
      forged.kill('SIGKILL');
      await stopAll();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
