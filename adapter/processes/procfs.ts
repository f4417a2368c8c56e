// Reads the process table from /proc (Linux), the way `ps` would, without spawning ps.
import * as fs from 'node:fs';

export interface ProcessInfo {
  pid: number;
  /** The kernel's short name (comm), e.g. "runsc-sandbox". */
  name: string;
  /** argv, as the process sees it. */
  argv: string[];
  uid: number;
  /** The file it runs (/proc/PID/exe), when we may read it: set by the kernel, not by the process. */
  exe?: string;
}

export function listProcesses(procRoot = '/proc'): ProcessInfo[] {
  const result: ProcessInfo[] = [];
  for (const entry of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(procRoot, Number(entry));
    if (info) result.push(info);
  }
  return result;
}

/** One process, or undefined if it is gone (or a kernel thread we may not read). */
export function readProcess(procRoot: string, pid: number): ProcessInfo | undefined {
  try {
    const dir = `${procRoot}/${pid}`;
    const name = fs.readFileSync(`${dir}/comm`, 'utf8').trim();
    const argv = fs.readFileSync(`${dir}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    const uidLine = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`${dir}/status`, 'utf8'));
    return { pid, name, argv, uid: uidLine ? Number(uidLine[1]) : -1, exe: readExe(dir) };
  } catch {
    return undefined; // gone while we looked, or a kernel thread we may not read
  }
}

function readExe(dir: string): string | undefined {
  try {
    return fs.readlinkSync(`${dir}/exe`);
  } catch {
    return undefined; // another user's process (EACCES), or a kernel thread
  }
}
