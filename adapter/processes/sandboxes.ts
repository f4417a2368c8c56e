// Tells runsc sandbox processes apart from the rest and orders a picker's list:
// sandboxes first (with their container ids), then everything else by pid.
import type { ProcessInfo } from './procfs';

export interface PickableProcess extends ProcessInfo {
  /** Set for `runsc-sandbox` / `runsc ... boot` processes. */
  sandbox?: { containerId?: string };
}

export function classifyProcess(info: ProcessInfo): PickableProcess {
  // runsc re-executes /proc/self/exe, so the kernel's name is "exe"; argv[0] says "runsc-sandbox".
  const p = info.name === 'exe' && info.argv[0] ? { ...info, name: info.argv[0].split('/').pop()! } : info;
  const boot = isRunscBoot(p);
  return boot ? { ...p, sandbox: { containerId: containerIdOf(p.argv) } } : { ...p };
}

/** runsc re-executes itself as `runsc-sandbox`; its argv still holds the `boot` subcommand. */
function isRunscBoot(p: ProcessInfo): boolean {
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

export function orderForPicker(processes: ProcessInfo[], selfPid = process.pid): PickableProcess[] {
  const all = processes.filter((p) => p.pid !== selfPid && p.argv.length > 0).map(classifyProcess);
  const sandboxes = all.filter((p) => p.sandbox).sort((a, b) => a.pid - b.pid);
  const others = all.filter((p) => !p.sandbox).sort((a, b) => a.pid - b.pid);
  return [...sandboxes, ...others];
}

export function describeProcess(p: PickableProcess): string {
  const id = p.sandbox?.containerId ? ` container ${p.sandbox.containerId}` : '';
  return `${p.name} (pid ${p.pid})${id}`;
}
