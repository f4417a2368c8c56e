// attach "waitFor": the first process whose command line starts with a prefix, found
// by the proxy itself and then attached to by pid. dlv 1.27.2 can wait too, but it
// marks every pid it has looked at as seen, so a process it reads between fork and exec
// (when its command line is still its parent's) is never matched and the attach waits
// forever; here every process is read again at each look, until it matches.
import * as fs from 'node:fs';

/** How often /proc is read while waiting (dlv reads it every millisecond). */
const LOOK_EVERY_MS = 5;

/** The command line as dlv compares it: arguments joined by spaces. */
function commandLine(procRoot: string, pid: number): string | undefined {
  try {
    return fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/** The lowest pid whose command line starts with `prefix`, other than those `skip` names. */
export function findByCommandLine(prefix: string, skip: (pid: number) => boolean, procRoot = '/proc'): number | undefined {
  const pids = fs.readdirSync(procRoot).filter((e) => /^\d+$/.test(e)).map(Number).sort((a, b) => a - b);
  return pids.find((pid) => commandLine(procRoot, pid)?.startsWith(prefix) && !skip(pid));
}

/** Waits until such a process exists; undefined if `signal` aborts first. */
export async function waitForProcess(prefix: string, skip: (pid: number) => boolean, signal: AbortSignal, procRoot = '/proc'): Promise<number | undefined> {
  while (!signal.aborted) {
    const pid = findByCommandLine(prefix, skip, procRoot);
    if (pid !== undefined) return pid;
    await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS));
  }
  return undefined;
}
