// Tells runsc sandbox processes apart from the rest and orders a picker's list:
// sandboxes first (with their container ids), then everything else by pid.
import * as path from 'node:path';
import type { ProcessInfo } from './procfs';

export interface PickableProcess extends ProcessInfo {
  /** Set for `runsc-sandbox` / `runsc ... boot` processes that are provably runsc's (see isSandbox). */
  sandbox?: { containerId?: string };
}

/**
 * Host uids a runsc sandbox runs as (gVisor runsc/sandbox/sandbox.go, module
 * v0.0.0-20260905035102-160fafc42237): 65534 (nobody) by default, 0 in a user namespace the
 * caller gives; in rootless mode, the caller's own uid (the viewer's, below).
 */
const SANDBOX_UIDS = [0, 65534];

export function classifyProcess(info: ProcessInfo, viewerUid = process.getuid?.() ?? -1): PickableProcess {
  // runsc re-executes /proc/self/exe, so the kernel's name is "exe"; argv[0] says "runsc-sandbox".
  const p = info.name === 'exe' && info.argv[0] ? { ...info, name: info.argv[0].split('/').pop()! } : info;
  return isSandbox(p, viewerUid) ? { ...p, sandbox: { containerId: containerIdOf(p.argv) } } : { ...p };
}

/**
 * A process names itself (argv, comm): anyone can start one called `runsc-sandbox boot`. What
 * the process cannot choose: its owner, and the file it runs. So a sandbox is one that says it
 * is runsc boot, is owned by a uid runsc uses (or by the viewer: a rootless sandbox of their
 * own), and, where the kernel lets us see its executable, runs a file named runsc*.
 */
function isSandbox(p: ProcessInfo, viewerUid: number): boolean {
  if (!saysRunscBoot(p)) return false;
  if (!SANDBOX_UIDS.includes(p.uid) && p.uid !== viewerUid) return false;
  return p.exe === undefined || /^runsc/.test(path.basename(p.exe.replace(/ \(deleted\)$/, '')));
}

/** runsc re-executes itself as `runsc-sandbox`; its argv still holds the `boot` subcommand. */
function saysRunscBoot(p: ProcessInfo): boolean {
  if (p.name === 'runsc-sandbox') return true;
  const exe = (p.argv[0] ?? '').split('/').pop() ?? '';
  return /^runsc/.test(exe) && p.argv.includes('boot');
}

/** The container id is the last positional argument of `boot` (runsc passes its own flags as --name=value). */
function containerIdOf(argv: string[]): string | undefined {
  const boot = argv.indexOf('boot');
  if (boot < 0) return undefined;
  const positional = argv.slice(boot + 1).filter((a) => a !== '' && !a.startsWith('-'));
  return positional[positional.length - 1];
}

export function orderForPicker(processes: ProcessInfo[], selfPid = process.pid, viewerUid = process.getuid?.() ?? -1): PickableProcess[] {
  const all = processes.filter((p) => p.pid !== selfPid && p.argv.length > 0).map((p) => classifyProcess(p, viewerUid));
  const sandboxes = all.filter((p) => p.sandbox).sort((a, b) => a.pid - b.pid);
  const others = all.filter((p) => !p.sandbox).sort((a, b) => a.pid - b.pid);
  return [...sandboxes, ...others];
}

export function describeProcess(p: PickableProcess): string {
  const id = p.sandbox?.containerId ? ` container ${p.sandbox.containerId}` : '';
  return `${p.name} (pid ${p.pid})${id}`;
}
