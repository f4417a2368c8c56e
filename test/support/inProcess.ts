// The proxy in the test's own process, as VS Code runs it inline: the client side is a
// pair of in-memory streams, so fuzzing can push raw bytes at it by the thousand.
import { PassThrough } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DlvProxy, type ProxyOptions } from '../../adapter/session/proxy';
import { frame, FrameReader } from '../../adapter/dap/framing';

export class InProcessSession {
  readonly proxy: DlvProxy;
  readonly received: DebugProtocol.ProtocolMessage[] = [];
  readonly log: string[] = [];
  private readonly toProxy = new PassThrough();
  private readonly fromProxy = new PassThrough();

  constructor(options: ProxyOptions = {}) {
    this.proxy = new DlvProxy({ ...options, log: (line) => this.log.push(line) });
    this.proxy.client.start(this.toProxy, this.fromProxy);
    const reader = new FrameReader();
    this.fromProxy.on('data', (chunk: Buffer) =>
      reader.push(chunk, (json) => {
        const message = JSON.parse(json) as DebugProtocol.ProtocolMessage;
        this.received.push(message);
        for (const w of [...this.waiters]) {
          if (!w.wanted(message)) continue;
          this.waiters.delete(w);
          w.resolve(message);
        }
      }),
    );
  }

  /** Every request sent, in order. */
  readonly sent: DebugProtocol.Request[] = [];

  send(message: object): void {
    if ((message as DebugProtocol.Request).type === 'request') this.sent.push(message as DebugProtocol.Request);
    this.sendRaw(frame(JSON.stringify(message)));
  }

  private nextSeq = 1;
  private readonly waiters = new Set<{ wanted(m: DebugProtocol.ProtocolMessage): boolean; resolve(m: DebugProtocol.ProtocolMessage): void }>();

  /** The next message that `wanted` accepts, as it arrives (no polling). */
  next(wanted: (m: DebugProtocol.ProtocolMessage) => boolean): Promise<DebugProtocol.ProtocolMessage> {
    return new Promise((resolve) => this.waiters.add({ wanted, resolve }));
  }

  /** Sends a request; resolves with its response, or undefined if the session ended first. */
  async request(command: string, args?: unknown, timeoutMs = 20_000): Promise<DebugProtocol.Response | undefined> {
    const seq = this.nextSeq++;
    this.send({ seq, type: 'request', command, arguments: args });
    await this.until(() => this.responsesTo(seq).length > 0 || this.events('terminated').length > 0, timeoutMs);
    return this.responsesTo(seq)[0];
  }

  /** Resolves with the next `name` event after `count` earlier ones, or undefined on timeout. */
  async event(name: string, count: number, timeoutMs = 20_000): Promise<DebugProtocol.Event | undefined> {
    await this.until(() => this.events(name).length > count || this.events('terminated').length > 0, timeoutMs);
    return this.events(name)[count];
  }

  /** Every request sent so far (parsed back from what went out). */
  get requestSeqs(): number[] {
    return Array.from({ length: this.nextSeq - 1 }, (_, i) => i + 1);
  }

  sendRaw(bytes: string | Buffer): void {
    this.toProxy.write(bytes);
  }

  responsesTo(seq: number): DebugProtocol.Response[] {
    return this.received.filter((m): m is DebugProtocol.Response => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq);
  }

  events(name: string): DebugProtocol.Event[] {
    return this.received.filter((m): m is DebugProtocol.Event => m.type === 'event' && (m as DebugProtocol.Event).event === name);
  }

  /** The text of every output event, in order. */
  outputText(): string {
    return this.events('output').map((e) => (e.body as { output: string }).output).join('');
  }

  /** Waits until `done()` holds, checking after each turn of the event loop; false on timeout. */
  async until(done: () => boolean, timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Polls every turn at first (fuzzing needs that), then every few ms for slow waits.
    for (let turn = 0; !done(); turn++) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => (turn < 200 ? setImmediate(r) : setTimeout(r, 2)));
    }
    return true;
  }

  async close(): Promise<void> {
    this.toProxy.end();
    await this.proxy.shutdown();
  }
}
