#!/usr/bin/env node
// Generates adapter/arm64/el0Access.generated.ts: which AArch64 system register
// accesses complete at EL0 under a real ARM64 Linux, and which raise SIGILL, as
// measured, not as the architecture's op1 alone suggests (Linux emulates MRS of the
// ID registers, and leaves SCTLR_EL1.UMA clear so that DAIF traps).
//
// It builds tools/el0probe (arm64, static), boots the emulated board
// (scripts/board.sh, scenario program) with the probe as /bin/program, lets the
// board's dlv run it to main.done over DAP, reads the probe's report from its memory,
// stops the board and writes the table.
//
//   node tools/gen-el0-access.mjs            measure and write the table
//   node tools/gen-el0-access.mjs --report   the same, and print the probe's report (with the values read) on stdout
//   node tools/gen-el0-access.mjs --check    measure, and fail unless the committed tables are what was measured
// Needs what scripts/board.sh needs (qemu-system-aarch64, apt-get, Go).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(root, 'adapter', 'arm64', 'el0Access.generated.ts');
const BOARD = path.join(root, 'scripts', 'board.sh');
const FIELDS = 1 << 15;
const REPORT_BYTES = FIELDS + 32768; // main.report in tools/el0probe/main.go (a multiple of 512)
const RUN_TIMEOUT_MS = 30 * 60_000;

const log = (s) => process.stderr.write(`[gen-el0-access] ${s}\n`);

function goTool() {
  for (const go of ['go', '/usr/local/go/bin/go']) if (spawnSync(go, ['version'], { stdio: 'ignore' }).status === 0) return go;
  throw new Error('no Go toolchain (go or /usr/local/go/bin/go)');
}

/** Builds the probe for arm64 into dir; returns the binary and the address of main.report in it. */
function buildProbe(dir) {
  const go = goTool();
  const bin = path.join(dir, 'el0probe');
  execFileSync(go, ['build', '-o', bin, '.'], {
    cwd: path.join(root, 'tools', 'el0probe'),
    env: { ...process.env, GOOS: 'linux', GOARCH: 'arm64', CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // A static, non-PIE binary: the symbol's address is where the array is at run time.
  const nm = execFileSync(go, ['tool', 'nm', bin], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /^\s*([0-9a-f]+)\s+\S\s+main\.report$/m.exec(nm);
  if (!m) throw new Error('main.report is not in the probe\'s symbol table');
  return { bin, report: BigInt(`0x${m[1]}`) };
}

/** A minimal DAP client: Content-Length framed JSON over a socket. */
class Dap {
  constructor(socket) {
    this.socket = socket;
    this.seq = 1;
    this.pending = new Map();
    this.waiters = [];
    this.buffer = Buffer.alloc(0);
    socket.on('data', (d) => this.receive(d));
    socket.on('close', () => this.fail(new Error('dlv closed the connection')));
    socket.on('error', (e) => this.fail(e));
  }

  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Dap(socket)));
      socket.once('error', reject);
    });
  }

  receive(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.type === 'response') {
        const p = this.pending.get(message.request_seq);
        this.pending.delete(message.request_seq);
        if (message.success) p?.resolve(message.body ?? {});
        else p?.reject(new Error(`${message.command}: ${message.message} ${JSON.stringify(message.body ?? {})}`));
      } else if (message.type === 'event') {
        if (message.event === 'output') process.stderr.write(`[dlv] ${message.body.output}`);
        for (const w of this.waiters.filter((w) => w.event === message.event)) w.resolve(message.body ?? {});
        this.waiters = this.waiters.filter((w) => w.event !== message.event);
        // The probe ending without stopping at main.done is a failure, not a wait until the timeout.
        if (message.event === 'terminated' || message.event === 'exited') this.fail(new Error(`the probe ended before main.done (${message.event} ${JSON.stringify(message.body ?? {})})`));
      }
    }
  }

  fail(error) {
    for (const p of this.pending.values()) p.reject(error);
    for (const w of this.waiters) w.reject(error);
    this.pending.clear();
    this.waiters = [];
  }

  request(command, args = {}) {
    const seq = this.seq++;
    const body = Buffer.from(JSON.stringify({ seq, type: 'request', command, arguments: args }), 'utf8');
    this.socket.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.socket.write(body);
    return new Promise((resolve, reject) => this.pending.set(seq, { resolve, reject }));
  }

  event(event, ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${event} event within ${ms / 1000} s`)), ms);
      this.waiters.push({ event, resolve: (b) => (clearTimeout(timer), resolve(b)), reject: (e) => (clearTimeout(timer), reject(e)) });
    });
  }
}

/** Runs the probe under the board's dlv to main.done and reads main.report. */
async function measure(port, address) {
  const dap = await Dap.connect(port);
  try {
    await dap.request('initialize', { clientID: 'gen-el0-access', adapterID: 'go', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dap.event('initialized', 60_000);
    await dap.request('attach', { mode: 'remote' });
    await initialized;
    const bp = await dap.request('setFunctionBreakpoints', { breakpoints: [{ name: 'main.done' }] });
    if (!bp.breakpoints?.[0]?.verified) throw new Error(`main.done: no breakpoint (${JSON.stringify(bp)})`);
    const stopped = dap.event('stopped', RUN_TIMEOUT_MS);
    await dap.request('configurationDone'); // the probe was stopped at entry: this lets it run
    const stop = await stopped;
    if (stop.reason !== 'function breakpoint') throw new Error(`stopped for ${stop.reason}, not at main.done: ${JSON.stringify(stop)}`);
    const frames = await dap.request('stackTrace', { threadId: stop.threadId, levels: 1 });
    const frameId = frames.stackFrames?.[0]?.id;
    // dlv's readMemory takes only references it handed out, so the report is read as
    // *(*[64]uint64)(uintptr(ADDRESS)): 64 elements is the most one evaluate returns whole
    // (see adapter/bluepill/memory.ts). dlv answers requests sent together in order.
    const reads = [];
    for (let at = 0; at < REPORT_BYTES; at += 512) {
      const expression = `*(*[64]uint64)(uintptr(0x${(address + BigInt(at)).toString(16)}))`;
      reads.push(dap.request('evaluate', { expression, frameId, context: 'clipboard' }));
    }
    const report = Buffer.alloc(REPORT_BYTES);
    (await Promise.all(reads)).forEach((r, i) => {
      const words = /\[([^\]]*)\]\s*$/.exec(r.result ?? '')?.[1].split(',').map((w) => BigInt(w.trim()));
      if (words?.length !== 64) throw new Error(`reading the report at +${i * 512}: ${r.result}`);
      words.forEach((w, j) => report.writeBigUInt64LE(w, i * 512 + j * 8));
    });
    await dap.request('disconnect', { terminateDebuggee: true }).catch(() => undefined);
    return report;
  } finally {
    dap.socket.destroy();
  }
}

/** Boots the board with the probe, measures, and always stops the board (no qemu left). */
async function measureOnBoard(probe) {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'el0-board-'));
  const env = { ...process.env, BOARD_RUN_DIR: runDir, BOARD_PROGRAM: probe.bin, BOARD_PROGRAM_ARGS: '' };
  let qemuPid;
  try {
    const started = spawnSync('bash', [BOARD, 'start', 'program'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 });
    const board = Object.fromEntries((started.stdout ?? '').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    qemuPid = Number(board.BOARD_QEMU_PID) || undefined;
    if (started.status !== 0 || !board.BOARD_PORT) throw new Error(`scripts/board.sh start program failed (${started.status ?? started.signal})`);
    log(`board up, dlv on 127.0.0.1:${board.BOARD_PORT}; running the probe`);
    const t0 = Date.now();
    const report = await measure(Number(board.BOARD_PORT), probe.report);
    log(`probe done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return report;
  } finally {
    spawnSync('bash', [BOARD, 'stop'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (qemuPid && isAlive(qemuPid)) throw new Error(`qemu ${qemuPid} is still running after scripts/board.sh stop`);
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The probe's report: flags per field, and its text lines. */
export function parseReport(report) {
  const text = report.subarray(FIELDS, report.indexOf(0, FIELDS)).toString('utf8');
  const lines = text.split('\n').filter(Boolean);
  const value = (key) => lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);
  const reads = [];
  const writes = [];
  for (let f = 0; f < FIELDS; f++) {
    if (report[f] & 1) reads.push(f);
    if (report[f] & 2) writes.push(f);
  }
  const values = new Map(lines.filter((l) => l.startsWith('read ')).map((l) => l.split(' ')).map(([, f, v]) => [Number(f), v]));
  const pstate = {};
  for (const l of lines) {
    const m = /^pstate (\S+) (0x[0-9a-f]+) imm=(\d) trapped=(true|false)$/.exec(l);
    if (m) pstate[m[1]] = { word: m[2], imm: Number(m[3]), completes: m[4] === 'false' };
  }
  return { lines, value, reads, writes, values, pstate };
}

/** Sorted fields as inclusive [first, last] runs. */
function runs(fields) {
  const out = [];
  for (const f of fields) {
    if (out.length && out[out.length - 1][1] === f - 1) out[out.length - 1][1] = f;
    else out.push([f, f]);
  }
  return out;
}

/** Register names by field, from the disassembler table (only for the comments). */
function sysregNames() {
  const text = fs.readFileSync(path.join(root, 'adapter', 'arm64', 'sysregs.generated.ts'), 'utf8');
  return new Map([...text.matchAll(/^\s*\[(\d+), "([^"]*)", "([^"]*)"\],$/gm)].map((m) => [Number(m[1]), m[2] || m[3]]));
}

function generic(f) {
  return `S${2 + ((f >> 14) & 1)}_${(f >> 11) & 7}_C${(f >> 7) & 15}_C${(f >> 3) & 15}_${f & 7}`;
}

function hex(f) {
  return `0x${f.toString(16).padStart(4, '0')}`;
}

function runRows(fields, names) {
  return runs(fields).map(([a, b]) => {
    const name = (f) => names.get(f) ?? generic(f);
    return `  [${hex(a)}, ${hex(b)}], // ${a === b ? name(a) : `${name(a)} .. ${name(b)} (${b - a + 1})`}`;
  });
}

function render(source, result) {
  const names = sysregNames();
  const completing = Object.entries(result.pstate).filter(([, p]) => p.completes).map(([n]) => n);
  const summary = `${result.reads.length} of ${FIELDS} MRS encodings complete at EL0, ${result.writes.length} of those take back the value read with MSR, ${completing.length} of ${Object.keys(result.pstate).length} MSR (immediate) PSTATE forms complete`;
  return [
    '// GENERATED by tools/gen-el0-access.mjs: do not edit. Regenerate with `node tools/gen-el0-access.mjs`.',
    '// Which system register accesses complete at EL0 (user space) under a real ARM64 Linux, and',
    '// which raise SIGILL: measured by tools/el0probe in the emulated board (scripts/board.sh).',
    `// ${summary}.`,
    '',
    `export const EL0_ACCESS_SOURCE = ${JSON.stringify(source, null, 2)} as const;`,
    '',
    '/** Fields (op0-2:op1:CRn:CRm:op2, as in encoding.ts) whose MRS completes at EL0, as inclusive [first, last] runs. Every other MRS raised SIGILL. */',
    'export const EL0_READS: ReadonlyArray<readonly [number, number]> = [',
    ...runRows(result.reads, names),
    '];',
    '',
    '/** Fields whose MSR, writing back the value just read, completes at EL0 (only fields in EL0_READS were tried). */',
    'export const EL0_WRITES_BACK: ReadonlyArray<readonly [number, number]> = [',
    ...runRows(result.writes, names),
    '];',
    '',
    '/** Every MSR (immediate) PSTATE form tried, by LLVM\'s name: true when it completes at EL0, false when it raised SIGILL. */',
    `export const EL0_PSTATE: Readonly<Record<string, boolean>> = {`,
    ...Object.entries(result.pstate).map(([n, p]) => `  ${n}: ${p.completes}, // ${p.word}, #${p.imm}`),
    '};',
    '',
  ].join('\n');
}

function boardFacts() {
  const script = fs.readFileSync(BOARD, 'utf8');
  const qemu = spawnSync('qemu-system-aarch64', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  return {
    machine: /-M (\S+)/.exec(script)?.[1] ?? '',
    cpu: /-cpu (\S+)/.exec(script)?.[1] ?? '',
    qemu,
    dlv: /^DLV_VERSION=(\S+)/m.exec(script)?.[1] ?? '',
  };
}

async function main() {
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'el0probe-'));
  let report;
  try {
    const probe = buildProbe(dir);
    log(`probe built; main.report at 0x${probe.report.toString(16)}`);
    report = await measureOnBoard(probe);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const result = parseReport(report);
  const selftest = result.value('selftest') ?? '';
  if (!selftest.startsWith('true')) throw new Error(`the probe's self test failed: ${selftest || result.lines.join(' | ')}`);
  if (!/misplaced-traps=0$/.test(result.value('counts') ?? '')) throw new Error(`some SIGILL was not at the probed word: ${result.value('counts')}`);
  const facts = boardFacts();
  const source = {
    method: 'tools/el0probe run by the board\'s dlv: each of the 32768 MRS words (0xd5300000 | field << 5, Rt = x0) executed once at EL0, a SIGILL handler of its own skipping and flagging a trap; for each MRS that completed, MSR of the same field with the value read; MSR (immediate) PSTATE forms with immediates that keep PSTATE as it was',
    kernelRelease: result.value('uname.release'),
    kernelVersion: result.value('uname.version'),
    qemu: facts.qemu,
    qemuMachine: facts.machine,
    qemuCpu: facts.cpu,
    midrAtEl0: result.values.get(0x4000) ?? null,
    dlv: facts.dlv,
    date: new Date().toISOString().slice(0, 10),
  };
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  log(`${result.value('counts')}; kernel ${source.kernelRelease} ${source.kernelVersion}; ${seconds} s in all`);
  if (process.argv.includes('--report')) process.stdout.write(`${result.lines.join('\n')}\n`);
  const text = render(source, result);
  if (process.argv.includes('--check')) {
    // The tables (not the date, nor the values read) must be what this measurement gives.
    const tables = (t) => t.slice(t.indexOf('export const EL0_READS'));
    const committed = fs.readFileSync(OUT, 'utf8');
    if (tables(committed) !== tables(text)) {
      process.stdout.write(`measured now:\n${tables(text)}\ncommitted:\n${tables(committed)}`);
      throw new Error(`${path.relative(root, OUT)} is not what the board measures now: regenerate it (node tools/gen-el0-access.mjs)`);
    }
    log(`${path.relative(root, OUT)} matches the measurement`);
    return;
  }
  fs.writeFileSync(OUT, text);
  log(`wrote ${path.relative(root, OUT)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    log(e.stack ?? String(e));
    process.exit(1);
  });
}
