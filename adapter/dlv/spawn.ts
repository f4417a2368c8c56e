// Starts `dlv dap --listen=127.0.0.1:0` and waits for the line that tells its port,
// as vscode-go does. Everything dlv prints after that line is passed on as output.
import { spawn, type ChildProcess } from 'node:child_process';
import { listeningAddresses } from './listeners';
import { findOnPath, locateDlv } from './locate';
import { TailBuffer } from './stderrTail';

const LISTENING_LINE = /DAP server listening at:\s*(\S+):(\d+)/;
const START_TIMEOUT_MS = 30_000;

export interface SpawnOptions {
  dlvPath?: string;
  asRoot: boolean;
  dlvFlags: string[];
  onOutput(category: 'stdout' | 'stderr', text: string): void;
}

export interface SpawnedDlv {
  host: string;
  port: number;
  child: ChildProcess;
  /** dlv runs under sudo, a child of `child`. */
  viaSudo: boolean;
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderrTail: TailBuffer;
  /** Waits up to `graceMs` for dlv to exit, then ends it; resolves true if it exited by itself. */
  kill(graceMs?: number): Promise<boolean>;
}

export class DlvStartError extends Error {}

export function dlvCommandLine(o: Pick<SpawnOptions, 'dlvPath' | 'asRoot' | 'dlvFlags'>, isRoot: boolean): { file: string; args: string[]; viaSudo: boolean } {
  const dlv = locateDlv(o.dlvPath);
  const args = ['dap', '--listen=127.0.0.1:0', ...o.dlvFlags];
  if (!o.asRoot || isRoot) return { file: dlv, args, viaSudo: false };
  const sudo = findOnPath('sudo');
  if (!sudo) throw new DlvStartError('"asRoot" is on, but sudo is not installed. Install sudo, or start VS Code (or bluepill-lens adapter) as root.');
  // dlv refuses connections from another user unless told otherwise; we stay unprivileged.
  return { file: sudo, args: ['-n', '--', dlv, ...args, '--only-same-user=false'], viaSudo: true };
}

export function spawnDlv(o: SpawnOptions): Promise<SpawnedDlv> {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const { file, args, viaSudo } = dlvCommandLine(o, isRoot);
  // In a process group of its own: a SIGHUP or Ctrl-C meant for the adapter (a closed
  // terminal) must not kill dlv while it holds a stopped process with breakpoints in it.
  // The adapter ends it (by pid) when it ends, after a disconnect.
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stderrTail = new TailBuffer();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const kill = async (graceMs = 2000) => {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    const timer = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
    const gone = exited.then(() => true);
    if (await Promise.race([gone, timer(graceMs).then(() => false)])) return true;
    child.kill('SIGTERM');
    if (await Promise.race([gone, timer(1000).then(() => false)])) return false;
    child.kill('SIGKILL');
    await gone;
    return false;
  };

  return new Promise<SpawnedDlv>((resolve, reject) => {
    let listening = false;
    let stdoutPartial = '';
    const fail = (message: string) => {
      if (listening) return;
      listening = true; // settle once
      clearTimeout(deadline);
      void kill(0);
      reject(new DlvStartError(message));
    };
    const deadline = setTimeout(() => {
      fail(`dlv did not report its listening address within ${START_TIMEOUT_MS / 1000} s. ${quoteTail(stderrTail)}`);
    }, START_TIMEOUT_MS);

    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (listening) {
        o.onOutput('stdout', chunk);
        return;
      }
      stdoutPartial += chunk;
      const m = LISTENING_LINE.exec(stdoutPartial);
      if (!m) return;
      const exposed = offLoopback(child.pid, m[1], viaSudo);
      if (exposed) {
        fail(
          `dlv listened on ${exposed}, which is not loopback, so it was ended (pid ${child.pid}): a dlv started by bluepill-lens must listen on 127.0.0.1 only. ` +
            'Remove any listen flag from "dlvFlags" (and from a dlv wrapper script). To debug on another machine, start `dlv --headless` there and use attach mode "remote" (through an SSH tunnel).',
        );
        return;
      }
      listening = true;
      clearTimeout(deadline);
      const rest = stdoutPartial.slice(stdoutPartial.indexOf('\n', m.index) + 1);
      if (rest && stdoutPartial.includes('\n', m.index)) o.onOutput('stdout', rest);
      resolve({ host: m[1], port: Number(m[2]), child, viaSudo, exited, stderrTail, kill });
    });
    child.stderr!.on('data', (chunk: string) => {
      stderrTail.push(chunk);
      if (listening) o.onOutput('stderr', chunk);
      else if (/a password is required|a terminal is required/.test(stderrTail.text())) {
        fail(
          '"asRoot" is on, but sudo wants a password, and the debugger cannot type one. ' +
            'Allow dlv without a password (a sudoers line such as `youruser ALL=(root) NOPASSWD: /path/to/dlv`), ' +
            'or run `sudo -v` in a terminal shortly before starting, or start the editor (or `bluepill-lens adapter`) as root.',
        );
      }
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(`Could not start ${file}: ${err.message}.`);
    });
    child.once('exit', (code, signal) => {
      fail(`dlv exited (${signal ? `signal ${signal}` : `status ${code}`}) before it started listening. ${quoteTail(stderrTail)}`);
    });
  });
}

/**
 * The first address dlv listens on off loopback, if any: its real sockets, not its flags.
 * A dlv under sudo belongs to root and its sockets cannot be read: its own line is checked.
 */
function offLoopback(pid: number | undefined, reportedHost: string, viaSudo: boolean): string | undefined {
  const sockets = pid !== undefined && !viaSudo ? listeningAddresses(pid) : undefined;
  if (sockets) {
    const wide = sockets.find((a) => !a.loopback);
    return wide && `${wide.ip}:${wide.port}`;
  }
  return /^(127\.|\[::1\]$|localhost$)/.test(reportedHost) ? undefined : reportedHost;
}

export function quoteTail(tail: TailBuffer): string {
  const text = tail.text();
  return text ? `Its last output:\n${text}` : 'It printed nothing.';
}
