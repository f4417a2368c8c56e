// The real amd64 runsc on KVM, started the way the notes' symptom shows itself:
// `runsc --platform=kvm --network=none do /bin/true`. On this project's machines (PVM) it
// never returns and its vCPU spins in the guest. Used by the live guest tests; everything it
// starts is found from its own child by /proc (provably ours) and ended by pid.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { TRACEFS_MOUNTS } from '../../adapter/guest/tracefs';
import { runscBinaries } from './runsc';

/** Why the guest of a sandbox cannot be traced here, or undefined when it can. */
export function guestTraceUnavailable(): string | undefined {
  const tracefs = TRACEFS_MOUNTS.find((m) => fs.existsSync(path.join(m, 'instances')));
  return !fs.existsSync('/dev/kvm') ? 'no /dev/kvm' : process.getuid?.() !== 0 ? 'needs root' : !tracefs ? 'tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)' : undefined;
}

/** The process and every descendant, from /proc/PID/task/TID/children: provably ours. */
export function descendants(pid: number): number[] {
  const out = [pid];
  let children: string[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) children = children.concat(fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
  } catch {
    // gone
  }
  for (const c of children) out.push(...descendants(Number(c)));
  return out;
}

export interface RunscHang {
  runsc: ChildProcess;
  /** The runsc-sandbox process (the Sentry), 0 if none appeared within 30 s. */
  sandboxPid: number;
  stop(): void;
}

export async function startRunscHang(): Promise<RunscHang> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runsc-root-'));
  const runsc = spawn(runscBinaries().amd64, [`--root=${root}`, '--platform=kvm', '--network=none', 'do', '/bin/true'], { stdio: 'ignore', detached: true });
  let sandboxPid = 0;
  for (let i = 0; i < 300 && !sandboxPid; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sandboxPid = descendants(runsc.pid!).find((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('runsc-sandbox');
      } catch {
        return false;
      }
    }) ?? 0;
  }
  // Let its vCPU get going.
  await new Promise((r) => setTimeout(r, 2000));
  return {
    runsc,
    sandboxPid,
    stop() {
      if (runsc.pid) for (const p of descendants(runsc.pid).reverse()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
