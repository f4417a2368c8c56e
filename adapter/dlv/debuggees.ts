// The programs a spawned dlv launched. dlv starts them in their own process group and
// does not ask the kernel to kill them with it, so a dlv that dies (SIGKILL, OOM) would
// leave the program running. The proxy notes them after `launch` and ends them then.
import * as fs from 'node:fs';

export interface Debuggee {
  pid: number;
  /** From /proc/PID/stat: tells this process from a later one given the same pid. */
  startTime: string;
}

/** dlv's children that run `program` (not dlv's own helpers). Empty where /proc cannot say. */
export function launchedBy(dlvPid: number, program: string): Debuggee[] {
  const result: Debuggee[] = [];
  let target: string;
  try {
    target = fs.realpathSync(program);
  } catch {
    return result;
  }
  for (const pid of childrenOf(dlvPid)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== target) continue;
      const startTime = startTimeOf(pid);
      if (startTime) result.push({ pid, startTime });
    } catch {
      // gone, or not ours to read
    }
  }
  return result;
}

/** Now, in the clock of /proc/PID/stat's start times (USER_HZ, 100 a second on Linux). */
export function bootTicks(): number {
  try {
    return Math.floor(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

/**
 * Processes running `program` that started at or after `sinceTicks` and whose parent is
 * no longer a dlv: what a dlv killed in the middle of `launch` leaves behind (it had
 * started the program but not yet answered, so launchedBy() never saw it).
 */
export function orphansSince(program: string, sinceTicks: number): Debuggee[] {
  let target: string;
  try {
    target = fs.realpathSync(program);
  } catch {
    return [];
  }
  const result: Debuggee[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== target) continue;
      const fields = statFields(pid);
      if (!fields || Number(fields[19]) < sinceTicks - 1) continue;
      const parent = fs.readFileSync(`/proc/${fields[1]}/comm`, 'utf8').trim();
      if (parent !== 'dlv') result.push({ pid, startTime: fields[19] });
    } catch {
      // gone, or not ours to read
    }
  }
  return result;
}

/** Kills those still alive (and still the same process); returns their pids. */
export function killLeftovers(debuggees: Debuggee[]): number[] {
  const killed: number[] = [];
  for (const d of debuggees) {
    if (startTimeOf(d.pid) !== d.startTime) continue;
    try {
      process.kill(d.pid, 'SIGKILL');
      killed.push(d.pid);
    } catch {
      // already gone, or not permitted (dlv ran as root through sudo)
    }
  }
  return killed;
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** /proc/PID/stat after the command name (which may hold spaces and parentheses): [0] state, [1] ppid, [19] start time. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
