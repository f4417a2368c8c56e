// The processes a spawned dlv started (the program it launched, a build). dlv starts
// them in their own process group and does not ask the kernel to kill them with it,
// so a dlv that dies (SIGKILL, OOM) would leave them running. They are recorded
// while dlv is alive, as dlv's children by pid and start time (/proc/PID/stat field
// 22), and only those are ever ended: never a process found by its name or its
// binary, which may be someone else's copy.
import * as fs from 'node:fs';

export interface Debuggee {
  pid: number;
  /** From /proc/PID/stat: tells this process from a later one given the same pid. */
  startTime: string;
  /** Its executable, to name it in messages. */
  exe?: string;
  /** The executable of the dlv that started it: a child running the same one is dlv's own helper (its telemetry child). */
  parentExe?: string;
}

/**
 * dlv's own helper (dlv re-executed: its telemetry child), ended but not named as a debuggee.
 * Judged when it is ended, not when it was first seen: a program seen between dlv's fork and
 * its exec still runs dlv's executable then.
 */
export function isDlvHelper(d: Debuggee): boolean {
  return d.exe !== undefined && d.exe === d.parentExe;
}

/**
 * While a launch is pending, dlv's children are read this often: dlv forks, then loads
 * symbols for tens of milliseconds. A dlv killed within this time of the fork leaves its
 * program unrecorded (and running); nothing else is ever guessed at.
 */
const WATCH_MS = 2;

export class Offspring {
  private readonly known = new Map<number, Debuggee>();
  private timer: NodeJS.Timeout | undefined;
  private readonly spawnedStart: string | undefined;

  /**
   * @param spawnedPid the process we spawned: dlv, or sudo running dlv
   * @param depth where dlv's children are below it: 1, or 2 through sudo
   */
  constructor(private readonly spawnedPid: number, private readonly depth: 1 | 2) {
    this.spawnedStart = startTimeOf(spawnedPid);
  }

  /** Notes dlv's children as they are now (none once dlv has gone: its pid may be another's by then). */
  record(): void {
    if (!this.spawnedStart || startTimeOf(this.spawnedPid) !== this.spawnedStart) return;
    let parents = [this.spawnedPid];
    for (let d = 1; d < this.depth; d++) parents = parents.flatMap(childPids);
    for (const parent of parents) {
      const parentExe = exeOf(parent);
      for (const pid of childPids(parent)) {
        if (this.known.has(pid)) continue;
        const startTime = startTimeOf(pid);
        const exe = exeOf(pid);
        if (startTime) this.known.set(pid, { pid, startTime, exe, parentExe });
      }
    }
  }

  /** The pids of the programs dlv started (not its own helpers), as recorded. */
  programs(): number[] {
    // What each runs now: one seen between dlv's fork and its exec still ran dlv's executable.
    for (const d of this.known.values()) d.exe = exeOf(d.pid) ?? d.exe;
    return [...this.known.values()].filter((d) => !isDlvHelper(d)).map((d) => d.pid);
  }

  /** Keeps recording until settle(): dlv is starting a program and has not answered yet. */
  watch(): void {
    this.record();
    this.timer ??= setInterval(() => this.record(), WATCH_MS);
    this.timer.unref();
  }

  /** dlv answered: one last look, and the watch ends. */
  settle(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.record();
  }

  /** Ends those still alive (and still the same process); returns the debuggees ended (not dlv's helpers). */
  endAll(): Debuggee[] {
    clearInterval(this.timer);
    this.timer = undefined;
    const ended: Debuggee[] = [];
    for (const d of this.known.values()) {
      if (startTimeOf(d.pid) !== d.startTime) continue;
      // What it runs now (it may have exec'd since it was recorded), for its name and for isDlvHelper.
      d.exe = exeOf(d.pid) ?? d.exe;
      try {
        process.kill(d.pid, 'SIGKILL');
        if (!isDlvHelper(d)) ended.push(d);
      } catch {
        // already gone, or not permitted (dlv ran as root through sudo)
      }
    }
    this.known.clear();
    return ended;
  }
}

/** Children of `pid`, from every one of its threads. Empty where /proc cannot say. */
function childPids(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/);
        } catch {
          return []; // the thread ended meanwhile
        }
      })
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Whether `pid` is `ancestor` or descends from it, by the parent links in /proc (each
 * checked against its start time, so a reused pid is not taken for an ancestor's child).
 */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let current = pid, depth = 0; current > 1 && depth < 64; depth++) {
    if (current === ancestor) return true;
    const parent = parentOf(current);
    if (parent === undefined) return false;
    const [ppid, parentStart] = parent;
    // A parent always started before its child; a pid reused later is not this child's parent.
    const childStart = startTimeOf(current);
    if (childStart !== undefined && parentStart !== undefined && Number(parentStart) > Number(childStart)) return false;
    current = ppid;
  }
  return false;
}

function parentOf(pid: number): [number, string | undefined] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return [ppid, startTimeOf(ppid)];
  } catch {
    return undefined;
  }
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name (which may hold spaces and parentheses): field 3 on; the start time is field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** "pid 1234 (/path/to/program)", for messages. */
export function describeDebuggees(ended: Debuggee[]): string {
  return ended.map((d) => `pid ${d.pid}${d.exe ? ` (${d.exe})` : ''}`).join(', ');
}
