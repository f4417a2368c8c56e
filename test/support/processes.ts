// Starts and reaps the processes a test needs, so none outlives it.
import * as fs from 'node:fs';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';

export interface Running {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<Running>();

/** Spawns a program and waits until its stderr or stdout shows `readyPattern`. */
export function startProcess(file: string, args: string[], readyPattern: RegExp, opts: { uid?: number; gid?: number; timeoutMs?: number } = {}): Promise<Running> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not print ${readyPattern} within ${opts.timeoutMs ?? 20000} ms; it printed: ${seen}`));
    }, opts.timeoutMs ?? 20000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (readyPattern.test(seen)) {
        clearTimeout(timer);
        const handle: Running = {
          child,
          pid: child.pid!,
          stop: async () => {
            running.delete(handle);
            if (child.exitCode !== null || child.signalCode !== null) return;
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGKILL');
            await gone;
          },
        };
        running.add(handle);
        resolve(handle);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code}) before it was ready; it printed: ${seen}`));
    });
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}

/** Pids of running dlv processes (by executable name). */
/**
 * Marks every process this test run starts (the environment is inherited: adapter, dlv, debuggee),
 * so that a dlv left behind is still known as ours after it was reparented, and another session's
 * dlv on the same machine is never taken for one.
 */
const OWNER = `BLUEPILL_TEST_OWNER=${process.pid}-${Date.now()}`;
process.env.BLUEPILL_TEST_OWNER = OWNER.slice(OWNER.indexOf('=') + 1);

function startedByThisRun(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(OWNER);
  } catch {
    return false;
  }
}

/** The dlv processes this test run started (see OWNER), alive now. */
export function dlvPids(): number[] {
  let all: number[];
  try {
    all = execFileSync('pgrep', ['-x', 'dlv'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return all.filter(startedByThisRun);
}

/** Waits until no dlv started during the test remains, or fails naming the orphans. */
export async function expectNoNewDlv(before: number[], timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let extra: number[] = [];
  while (Date.now() < deadline) {
    extra = dlvPids().filter((p) => !before.includes(p));
    if (extra.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dlv processes left behind: ${extra.join(', ')}`);
}

/** Running (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
