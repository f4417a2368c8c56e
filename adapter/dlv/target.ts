// Where the proxy finds its dlv: a dlv it spawns here, or one already listening on a
// board. Derived from the launch/attach arguments plus the extension's settings.
import { isRemote } from '../config/launchArgs';

export type DlvTarget =
  | { kind: 'local'; dlvPath?: string; asRoot: boolean; dlvFlags: string[] }
  | { kind: 'remote'; host: string; port: number };

export interface TargetDefaults {
  /** The setting bluepill.dlvPath (or the CLI's --dlv-path). */
  dlvPath?: string;
}

export function targetFromArguments(args: Record<string, unknown>, defaults: TargetDefaults = {}): DlvTarget {
  if (isRemote(args)) {
    return { kind: 'remote', host: String(args.host ?? '127.0.0.1'), port: Number(args.port) };
  }
  return {
    kind: 'local',
    dlvPath: (args.dlvPath as string | undefined) || defaults.dlvPath,
    asRoot: args.asRoot === true,
    dlvFlags: (args.dlvFlags as string[] | undefined) ?? [],
  };
}

/** Whether launch/attach arguments say which dlv to use (otherwise the current one serves). */
export function argumentsNameTarget(args: Record<string, unknown>): boolean {
  return isRemote(args) || ['dlvPath', 'asRoot', 'dlvFlags'].some((k) => args[k] !== undefined);
}

export function sameTarget(a: DlvTarget, b: DlvTarget): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function describeTarget(t: DlvTarget): string {
  return t.kind === 'remote' ? `dlv at ${t.host}:${t.port}` : `dlv${t.asRoot ? ' (as root)' : ''}`;
}

/**
 * A dlv port has no authentication: reached across a network, anyone who can connect
 * runs code as dlv's user (root, for a sandbox). Says so, with the SSH tunnel to use.
 */
export function unauthenticatedWarning(t: DlvTarget): string | undefined {
  if (t.kind !== 'remote' || isLoopback(t.host)) return undefined;
  return (
    `${t.host}:${t.port} is reached over the network, and a dlv port has no authentication: anyone who can reach it can run code as dlv's user (root, for a sandbox). ` +
    `Keep dlv on the board's loopback (--listen=127.0.0.1:${t.port}) and connect through an SSH tunnel: ssh -N -L ${t.port}:127.0.0.1:${t.port} user@${t.host}, then use host 127.0.0.1.`
  );
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts reached without crossing a network. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
