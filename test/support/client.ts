// DAP clients for the tests: DebugClient (from @vscode/debugadapter-testsupport)
// through the proxy on stdio, or straight to a `dlv dap` server, recording every
// message that arrives in order.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { adapterBundle, ensureBundles, ensureDlv } from './paths';

export class RecordingClient extends DebugClient {
  /** Every response and event received, in arrival order. */
  readonly received: DebugProtocol.ProtocolMessage[] = [];
  /** Every request sent, in order. */
  readonly sent: DebugProtocol.Request[] = [];
  adapterProcess: ChildProcess | undefined;

  constructor(runtime: string, executable: string, spawnOptions?: SpawnOptions) {
    super(runtime, executable, 'bluepill', spawnOptions);
    this.defaultTimeout = 20_000;
    const self = this as unknown as { dispatch(body: string): void };
    const original = self.dispatch.bind(this);
    self.dispatch = (body: string) => {
      this.received.push(JSON.parse(body));
      original(body);
    };
    const sending = this as unknown as { doSend(command: string, args: unknown, cb: unknown): void };
    const doSend = sending.doSend.bind(this);
    sending.doSend = (command: string, args: unknown, cb: unknown) => {
      this.sent.push({ seq: this.sent.length + 1, type: 'request', command, arguments: args });
      doSend(command, args, cb);
    };
  }

  override async start(port?: number): Promise<void> {
    await super.start(port);
    this.adapterProcess = (this as unknown as { _adapterProcess?: ChildProcess })._adapterProcess ?? undefined;
    // An adapter that ends its own session (a broken frame, dlv lost) may exit while a request,
    // such as stop()'s disconnect, is being written: EPIPE then. DebugClient has no handler for
    // it, so without one the error would end the whole test file after its tests had passed.
    this.adapterProcess?.stdin?.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
    // Straight to a dlv server: dlv exits after `disconnect`, and may reset the connection
    // (ECONNRESET) or be gone when a last request is written (EPIPE); the same holds.
    (this as unknown as { _socket?: net.Socket })._socket?.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }

  /**
   * DebugClient.stop sends `disconnect` and waits for its answer; the stdio adapter exits
   * by itself once its session has ended, so stop also settles when the process is gone.
   */
  override async stop(): Promise<void> {
    const child = this.adapterProcess;
    if (!child) return super.stop();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await Promise.race([super.stop(), exited]);
  }

  /** Talks to an adapter process the test spawned itself (e.g. with flags). */
  attachStreams(readable: import("node:stream").Readable, writable: import("node:stream").Writable): void {
    this.connect(readable, writable);
  }

  events(name: string): DebugProtocol.Event[] {
    return this.received.filter((m): m is DebugProtocol.Event => m.type === 'event' && (m as DebugProtocol.Event).event === name);
  }

  outputText(): string {
    return this.events('output').map((e) => (e.body as { output: string }).output).join('');
  }

  /** Resolves with the response even when it failed (DebugClient.send rejects then). */
  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    return new Promise((resolve) => {
      (this as unknown as { doSend(c: string, a: unknown, cb: (r: DebugProtocol.Response) => void): void }).doSend(command, args, resolve);
    });
  }
}

export interface ProxyClientOptions {
  env?: Record<string, string | undefined>;
  uid?: number;
  gid?: number;
}

/** A client talking to `node dist/adapter.js` (the proxy on stdio), with the pinned dlv. */
export async function proxyClient(o: ProxyClientOptions = {}): Promise<RecordingClient> {
  ensureBundles();
  // Another user may not be able to enter this checkout (CI clones into a private folder).
  const { adapter, dlv } = o.uid !== undefined ? worldReadableCopies() : { adapter: adapterBundle, dlv: ensureDlv() };
  const env: Record<string, string | undefined> = { ...process.env, BLUEPILL_DLV_PATH: dlv, ...o.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const dc = new RecordingClient(process.execPath, adapter, { env, uid: o.uid, gid: o.gid });
  await dc.start();
  return dc;
}

let copies: { adapter: string; dlv: string } | undefined;

/** The adapter bundle (self-contained) and dlv, copied where any user may run them. */
function worldReadableCopies(): { adapter: string; dlv: string } {
  if (copies) return copies;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-anyuser-'));
  fs.chmodSync(dir, 0o755);
  copies = { adapter: path.join(dir, 'adapter.js'), dlv: path.join(dir, 'dlv') };
  fs.copyFileSync(adapterBundle, copies.adapter);
  fs.copyFileSync(ensureDlv(), copies.dlv);
  fs.chmodSync(copies.adapter, 0o644);
  fs.chmodSync(copies.dlv, 0o755);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return copies;
}

/** Spawns the pinned dlv with `args` and waits for the port of its "listening at" line. */
export async function spawnListeningDlv(args: string[]): Promise<{ dlv: ChildProcess; port: number; stop(): Promise<void> }> {
  const dlv = spawn(ensureDlv(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    dlv.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening at: \S+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    dlv.once('exit', (code) => reject(new Error(`dlv ${args.join(' ')} exited ${code}: ${out}`)));
  });
  const stop = async () => {
    if (dlv.exitCode !== null || dlv.signalCode !== null) return;
    const gone = new Promise((r) => dlv.once('exit', r));
    dlv.kill('SIGKILL');
    await gone;
  };
  return { dlv, port, stop };
}

/** `dlv dap --listen=127.0.0.1:0`: a DAP server without a target yet. */
export function dlvDapServer(): ReturnType<typeof spawnListeningDlv> {
  return spawnListeningDlv(['dap', '--listen=127.0.0.1:0']);
}

/** A client connected straight to a `dlv dap` server we spawn: the baseline for transparency. */
export async function directClient(): Promise<{ client: RecordingClient; stop(): Promise<void> }> {
  const server = await dlvDapServer();
  const client = new RecordingClient('unused', 'unused');
  await client.start(server.port);
  client.defaultTimeout = 20_000;
  return {
    client,
    stop: async () => {
      // End the debuggee first: a SIGKILLed dlv leaves it running (a -spin fixture would
      // then burn a core under whatever is measured next).
      await Promise.race([client.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      // dlv exits after `disconnect`, so DebugClient.stop's second disconnect would wait forever.
      (client as unknown as { _socket?: net.Socket })._socket?.destroy();
      await server.stop();
    },
  };
}

/** initialize + launch/attach + wait for `initialized`, the opening every session shares. */
export async function openSession(dc: DebugClient, request: 'launch' | 'attach', args: Record<string, unknown>): Promise<void> {
  await dc.initializeRequest();
  await Promise.all([request === 'launch' ? dc.launchRequest(args as never) : dc.attachRequest(args as never), dc.waitForEvent('initialized')]);
}

/** A port that nothing listens on (bound, then released). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
