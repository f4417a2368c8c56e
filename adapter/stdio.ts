// Runs the proxy on stdin/stdout, for DAP clients other than VS Code (nvim-dap,
// Emacs dap-mode, ...). stdout carries DAP only: diagnostics go to stderr.
import { DlvProxy } from './session/proxy';
import { defaultHooks } from './hooks';
import { locateDlv } from './dlv/locate';
import type { DlvTarget } from './dlv/target';

export interface StdioOptions {
  dlvPath?: string;
  /** Connect to this dlv before `initialize` (otherwise the launch/attach arguments decide). */
  connect?: { host: string; port: number };
  verbose?: boolean;
}

export function runStdioAdapter(o: StdioOptions = {}): DlvProxy {
  const dlvPath = o.dlvPath ?? process.env.BLUEPILL_DLV_PATH;
  const proxy = new DlvProxy({
    initialTarget: initialTarget(o.connect, dlvPath),
    defaults: { dlvPath },
    hooks: defaultHooks(),
    log: o.verbose ? (line) => process.stderr.write(`bluepill-lens: ${line}\n`) : undefined,
    // The session is over (disconnect, or a broken frame): nothing more will come.
    onEnded: () => process.exit(0),
  });
  proxy.client.start(process.stdin, process.stdout);
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    // Give dlv its chance to end what it launched (the session SIGKILLs it, by its
    // ChildProcess, 3 s at most after asking), but never outlive that by much.
    setTimeout(() => process.exit(0), 5000).unref();
    void proxy.shutdown().finally(() => process.exit(0));
  };
  // The client vanished (its end of the pipe closed): stdout errors with EPIPE.
  process.stdout.on('error', exit);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  // Every signal that ends a terminal's programs: detach (or end what dlv launched)
  // cleanly. dlv runs in its own process group, so the same signal does not reach it.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, exit);
  return proxy;
}

/**
 * Connect before `initialize` when we can, so the client sees dlv's own capabilities.
 * If no dlv is at hand, wait for launch/attach to say where it is (it may be remote).
 */
function initialTarget(connect: StdioOptions['connect'], dlvPath: string | undefined): DlvTarget | undefined {
  if (connect) return { kind: 'remote', ...connect };
  try {
    locateDlv(dlvPath);
  } catch {
    return undefined;
  }
  return { kind: 'local', dlvPath, asRoot: false, dlvFlags: [] };
}
