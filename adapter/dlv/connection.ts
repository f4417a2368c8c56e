// One live link to a dlv DAP server: the socket, the DAP endpoint on it, and the dlv
// process when we spawned it. Reports one "lost" notice, whatever ended it first.
import * as net from 'node:net';
import { DlvEndpoint, type DlvHandlers } from '../dap/endpoints';
import { descendsFrom, describeDebuggees, Offspring } from './debuggees';
import { spawnDlv, quoteTail, type SpawnedDlv } from './spawn';
import { describeTarget, type DlvTarget } from './target';

const CONNECT_TIMEOUT_MS = 10_000;
/** Requests during which dlv starts a program. */
const STARTS_PROGRAMS = new Set(['launch', 'restart']);

export interface ConnectionEvents extends DlvHandlers {
  output(category: 'stdout' | 'stderr', text: string): void;
  /** The link ended without us asking: explains why, in words. */
  lost(explanation: string): void;
}

export class DlvConnectError extends Error {}

export class DlvConnection {
  readonly endpoint: DlvEndpoint;
  /** What our dlv started: ended if dlv dies without ending it. */
  private readonly offspring: Offspring | undefined;
  private closing = false;
  private lostReported = false;

  private constructor(
    readonly target: DlvTarget,
    private readonly socket: net.Socket,
    private readonly spawned: SpawnedDlv | undefined,
    private readonly events: ConnectionEvents,
  ) {
    const pid = spawned?.child.pid;
    this.offspring = pid ? new Offspring(pid, spawned!.viaSudo ? 2 : 1) : undefined;
    this.endpoint = new DlvEndpoint({
      ...events,
      response: (r) => {
        if (STARTS_PROGRAMS.has(r.message.command)) this.offspring?.settle();
        events.response(r);
      },
    });
    // dlv starts the program while `launch` (or `restart`) is pending: watch its children until it answers.
    this.endpoint.onDidSendMessage((m) => {
      const request = m as { type?: string; command?: string };
      if (request.type === 'request' && STARTS_PROGRAMS.has(request.command ?? '')) this.offspring?.watch();
    });
    socket.setNoDelay(true);
    this.endpoint.start(socket, socket);
    socket.on('close', () => void this.reportLost());
    socket.on('error', () => {
      /* 'close' follows and reports */
    });
    spawned?.exited.then(() => void this.reportLost());
  }

  static async open(target: DlvTarget, events: ConnectionEvents): Promise<DlvConnection> {
    if (target.kind === 'remote') {
      const socket = await connectSocket(target.host, target.port, remoteAdvice(target));
      return new DlvConnection(target, socket, undefined, events);
    }
    const spawned = await spawnDlv({ ...target, onOutput: (c, t) => events.output(c, t) });
    try {
      const socket = await connectSocket(spawned.host, spawned.port, 'dlv started but refused our connection.');
      return new DlvConnection(target, socket, spawned, events);
    } catch (e) {
      await spawned.kill(0);
      throw e;
    }
  }

  get pid(): number | undefined {
    return this.spawned?.child.pid;
  }

  /** The pids of the programs the dlv we spawned started (none for a remote dlv). */
  get programs(): number[] {
    return this.offspring?.programs() ?? [];
  }

  /** host:port of a dlv we spawned (ours alone: never shown to the client). */
  get spawnedAddress(): string | undefined {
    return this.spawned && `${this.spawned.host}:${this.spawned.port}`;
  }

  /** Whether `pid` is the dlv we spawned or one of its processes (its telemetry child, sudo's dlv). */
  owns(pid: number): boolean {
    const ours = this.pid;
    return ours !== undefined && descendsFrom(pid, ours);
  }

  /** Closes the link on purpose; a spawned dlv gets `graceMs` to exit on its own. */
  async close(graceMs = 2000): Promise<void> {
    this.closing = true;
    if (this.spawned) {
      // A dlv that had to be ended (stuck, or the session ended while it started) cannot end what it
      // launched: its children, recorded by pid and start time, are ended here.
      if (!(await this.spawned.kill(graceMs))) this.offspring?.endAll();
    } else if (!this.socket.destroyed && graceMs > 0) {
      // Let a remote dlv finish what it is sending (e.g. `terminated` after disconnect) and hang up first.
      const closed = new Promise((r) => this.socket.once('close', r));
      await Promise.race([closed, new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.socket.destroy();
  }

  private async reportLost(): Promise<void> {
    if (this.closing || this.lostReported) return;
    this.lostReported = true;
    if (!this.spawned) {
      this.events.lost(`The connection to ${describeTarget(this.target)} was closed. The board may have rebooted, dlv may have exited, or the network dropped. Start \`dlv --headless\` again on the board, then restart this session.`);
      return;
    }
    // The socket often closes a moment before the exit status is known: wait briefly for it.
    const status = await Promise.race([this.spawned.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref())]);
    const how = status === undefined ? 'stopped answering' : status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
    if (status === undefined) await this.spawned.kill(0);
    const ended = this.offspring?.endAll() ?? [];
    const also = ended.length ? ` What it had started was ended with it: ${describeDebuggees(ended)}.` : '';
    this.events.lost(`dlv ${how} in the middle of the session.${also} ${quoteTail(this.spawned.stderrTail)}`);
  }
}

function connectSocket(host: string, port: number, advice: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DlvConnectError(`Timed out after ${CONNECT_TIMEOUT_MS / 1000} s connecting to ${host}:${port}. ${advice}`));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
      reject(new DlvConnectError(`Could not connect to ${host}:${port}: ${why}. ${advice}`));
    });
  });
}

function remoteAdvice(t: { host: string; port: number }): string {
  return (
    `Nothing is listening there. On the board, start dlv with \`dlv --headless --listen=:${t.port} --accept-multiclient attach <pid>\` ` +
    '(as root for a runsc sandbox), make sure the port is reachable from here (ssh -L, firewall), and check "host" and "port".'
  );
}
