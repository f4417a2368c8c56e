// The emulated ARM64 board (scripts/board.sh) for the tests: boots it for a
// scenario in a run folder of the test's own, and stops it leaving no qemu.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { repoRoot } from './paths';

export type BoardScenario = 'minibluepill' | 'minibluepill-attach' | 'runsc' | 'runsc-nodlv' | 'program' | 'idle';

export interface BoardOptions {
  /** Scenario program: the arm64 Go binary (on the host) that the board's dlv execs as /bin/program. */
  program?: string;
  /** Its arguments (no commas: the kernel command line carries them). */
  programArgs?: string[];
}

export interface Board {
  /** Where the board's dlv listens on 127.0.0.1 (attach, mode remote). */
  port: number;
  controlPort: number;
  /** The arm64 binaries inside the board, as built on the host (same bytes). */
  minibluepill: string;
  runsc: string;
  qemuPid: number;
  /** How long boot.sh took from start to a listening dlv, build check included. */
  startSeconds: number;
  /** A snapshot of the board: its log, processes, runsc's logs (see tools/board/init/control.go). */
  status(): Promise<string>;
  /** runsc's debug logs in the board, whole. */
  runscLogs(): Promise<string>;
  /** Where the kernel mapped a process's vDSO in the board, and the vDSO's bytes. */
  vdso(pid: number): Promise<{ start: bigint; image: Buffer }>;
  /** The board kernel's KVM events of a process's threads (default: runsc-sandbox) for some seconds, as trace_pipe text. */
  trace(seconds: number, pid?: number): Promise<string>;
  /** The thread ids of a process in the board. */
  tasks(pid: number): Promise<number[]>;
  /** Every events/kvm/NAME/format of the board's kernel, by NAME. */
  kvmFormats(): Promise<Map<string, string>>;
  /** What Explain This Address needs of a board process that the host cannot read: its /proc texts, and KVM's IPA size. */
  addressFacts(pid: number): Promise<BoardAddressFacts>;
  /** The lines of the board's serial console. */
  console(): string;
  stop(): Promise<void>;
}

const script = path.join(repoRoot, 'scripts', 'board.sh');

/** Why the board cannot run on this machine, or undefined when it can. */
export function boardUnavailable(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v qemu-system-aarch64'], { stdio: 'ignore' }).status !== 0) return 'qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)';
  if (spawnSync('sh', ['-c', 'command -v apt-get && command -v dpkg-deb'], { stdio: 'ignore' }).status !== 0) return 'no apt-get/dpkg-deb to fetch Debian\'s arm64 kernel';
  return undefined;
}

/** What the board's init prints when runsc dies before its workload starts (its sandbox crashed while starting). */
const RUNSC_DIED_STARTING = /runsc exited before its workload ran/;

/**
 * Starts the board. Real runsc under the emulated CPU sometimes dies while it starts (seen: the
 * sandbox's urpc "StartRoot" failing with EOF, a status 139): not what any test is about, so that
 * one failure gets a second boot, said on stderr; every other failure, and a second one, stands.
 */
export async function startBoard(scenario: BoardScenario, o: BoardOptions = {}): Promise<Board> {
  try {
    return await startBoardOnce(scenario, o);
  } catch (e) {
    if (!RUNSC_DIED_STARTING.test((e as Error).message)) throw e;
    process.stderr.write(`[board] runsc died while starting (scenario ${scenario}); booting the board once more\n`);
    return startBoardOnce(scenario, o);
  }
}

async function startBoardOnce(scenario: BoardScenario, o: BoardOptions): Promise<Board> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-board-'));
  const started = Date.now();
  const result = spawnSync('bash', [script, 'start', scenario], {
    env: { ...process.env, BOARD_RUN_DIR: runDir, BOARD_PROGRAM: o.program ?? '', BOARD_PROGRAM_ARGS: (o.programArgs ?? []).join(' ') },
    encoding: 'utf8',
    timeout: 30 * 60_000, // a cold build compiles runsc for two architectures
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.stderr.write(result.stderr ?? '');
  const env = Object.fromEntries((result.stdout ?? '').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const stop = async () => {
    execFileSync('bash', [script, 'stop'], { env: { ...process.env, BOARD_RUN_DIR: runDir }, stdio: 'ignore' });
    fs.rmSync(runDir, { recursive: true, force: true });
  };
  if (result.status !== 0 || !env.BOARD_PORT) {
    const consoleTail = readOr(path.join(runDir, 'serial.log')).split('\n').slice(-40).join('\n');
    await stop();
    throw new Error(`scripts/board.sh start ${scenario} failed (${result.status ?? result.signal}):\n${result.stderr}\n${consoleTail}`);
  }
  const controlPort = Number(env.BOARD_CONTROL_PORT);
  return {
    port: Number(env.BOARD_PORT),
    controlPort,
    minibluepill: env.BOARD_MINIBLUEPILL,
    runsc: env.BOARD_RUNSC,
    qemuPid: Number(env.BOARD_QEMU_PID),
    startSeconds: (Date.now() - started) / 1000,
    status: async () => (await controlRequest(controlPort, 'status')).toString('utf8'),
    runscLogs: async () => (await controlRequest(controlPort, 'runsc-logs')).toString('utf8'),
    vdso: async (pid) => {
      const answer = await controlRequest(controlPort, `vdso ${pid}`);
      const newline = answer.indexOf(10);
      const head = answer.subarray(0, newline).toString('utf8');
      if (!/^0x[0-9a-f]+$/.test(head)) throw new Error(`vdso ${pid}: ${head}`);
      return { start: BigInt(head), image: answer.subarray(newline + 1) };
    },
    trace: async (seconds, pid) => controlAnswer(await controlRequest(controlPort, `trace ${seconds}${pid ? ` ${pid}` : ''}`), 'trace'),
    tasks: async (pid) => controlAnswer(await controlRequest(controlPort, `tasks ${pid}`), 'tasks').trim().split('\n').map(Number),
    kvmFormats: async () => {
      const text = controlAnswer(await controlRequest(controlPort, 'kvm-formats'), 'kvm-formats');
      return new Map(text.split(/^== /m).filter(Boolean).map((part) => [part.slice(0, part.indexOf('\n')), part.slice(part.indexOf('\n') + 1)]));
    },
    addressFacts: async (pid) => parseAddressFacts(pid, controlAnswer(await controlRequest(controlPort, `address-facts ${pid}`), 'address-facts')),
    console: () => readOr(env.BOARD_SERIAL_LOG),
    stop,
  };
}

export interface BoardAddressFacts {
  pid: number;
  exePath: string;
  maps: string;
  threads: Array<{ tid: number; comm?: string; syscall?: string }>;
  /** KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE) on the board's /dev/kvm, or why it could not be asked. */
  kvmIpaBits: number | { error: string };
}

/** The control answer to address-facts: parts after "== NAME" (see tools/board/init/procfacts.go). */
function parseAddressFacts(pid: number, text: string): BoardAddressFacts {
  const parts = new Map(text.split(/^== /m).filter(Boolean).map((part) => [part.slice(0, part.indexOf('\n')), part.slice(part.indexOf('\n') + 1)]));
  const threads = new Map<number, { tid: number; comm?: string; syscall?: string }>();
  for (const [name, body] of parts) {
    const m = /^task\/(\d+)\/(comm|syscall)$/.exec(name);
    if (!m) continue;
    const t = threads.get(Number(m[1])) ?? { tid: Number(m[1]) };
    t[m[2] as 'comm' | 'syscall'] = body;
    threads.set(t.tid, t);
  }
  const ipa = (parts.get('kvm-ipa-bits') ?? '').trim();
  return {
    pid,
    exePath: (parts.get('exe') ?? '').trim(),
    maps: parts.get('maps') ?? assert.fail(`address-facts ${pid} has no maps part: ${text.slice(0, 200)}`),
    threads: [...threads.values()],
    kvmIpaBits: /^\d+$/.test(ipa) ? Number(ipa) : { error: ipa },
  };
}

/** Sends one line to the board's control port and returns all it answers. */
export function controlRequest(port: number, line: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

/** A control answer as text; one that starts with "error: " is thrown. */
function controlAnswer(answer: Buffer, request: string): string {
  const text = answer.toString('utf8');
  if (text.startsWith('error: ')) throw new Error(`board control ${request}: ${text.slice(7).trim()}`);
  return text;
}

/** Processes in a status snapshot: pid, state letter (t: stopped by a debugger), voluntary context switches, argv. */
export function boardProcesses(status: string): Array<{ pid: number; state: string; switches: number; argv: string }> {
  const section = status.split('--- processes\n')[1]?.split('\n--- ')[0] ?? '';
  return section
    .split('\n')
    .map((l) => /^(\d+) (\S) (\d+) (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), state: m[2], switches: Number(m[3]), argv: m[4] }));
}

/** The tracefs instances that exist in the board, from a status snapshot. */
export function boardTraceInstances(status: string): string[] {
  return (status.split('--- trace instances\n')[1] ?? '').split('\n').filter(Boolean);
}

/** The address of a function in a vDSO image, as binutils reads its dynamic symbols. */
export function vdsoSymbol(image: Buffer, name: string): bigint {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'board-vdso-'));
  try {
    fs.writeFileSync(path.join(dir, 'vdso.so'), image);
    const nm = execFileSync('aarch64-linux-gnu-nm', ['-D', path.join(dir, 'vdso.so')], { encoding: 'utf8' });
    const m = new RegExp(`^([0-9a-f]+) T ${name}\\b`, 'm').exec(nm);
    assert.ok(m, `the vDSO exports ${name}: ${nm}`);
    return BigInt(`0x${m[1]}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the process's voluntary context switches grow: it runs (bounded by count, not time). */
export async function expectKeepsRunning(board: Board, argvPrefix: string): Promise<void> {
  const find = async () => boardProcesses(await board.status()).find((p) => p.argv.startsWith(argvPrefix));
  const first = await find();
  assert.ok(first, `${argvPrefix} runs in the board`);
  let last = first;
  for (let i = 0; i < 50 && last.switches <= first.switches; i++) {
    await new Promise((r) => setTimeout(r, 200));
    last = (await find()) ?? assert.fail(`${argvPrefix} is gone from the board`);
  }
  assert.ok(last.switches > first.switches, `${argvPrefix} keeps running (context switches ${first.switches} → ${last.switches})`);
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
