// The two ends of the proxy. Both reuse @vscode/debugadapter's ProtocolServer for seq
// numbering and the inline (in-process) transport, and read the wire with our strict
// FrameReader: a stream that has lost its frame boundaries ends the session.
import { ProtocolServer } from '@vscode/debugadapter/lib/protocol';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CoalescingWriter } from './coalescingWriter';
import { FrameError, FrameReader } from './framing';

type Message = DebugProtocol.ProtocolMessage;

/** Shared: send a request and learn the seq ProtocolServer gave it, with no timer attached. */
abstract class Endpoint extends ProtocolServer {
  private lastSent: Message | undefined;
  private readonly reader = new FrameReader();
  private readonly receivers = new Set<(m: Message) => void>();

  constructor() {
    super();
    // Replaces ProtocolServer's lenient reader (a private method, hence the cast).
    (this as unknown as { _handleData(data: Buffer): void })._handleData = (data) => this.read(data);
    // ProtocolServer's emitter holds a single listener and fires it synchronously from
    // inside every send. Take that slot ourselves and fan out, so that VS Code's inline
    // host can still listen while we learn the seq of each request we send.
    const listeners = new Set<(m: unknown) => void>();
    this.onDidSendMessage((m) => {
      this.lastSent = m as Message;
      for (const listener of listeners) listener(m);
    });
    this.onDidSendMessage = (listener, thisArg) => {
      const bound = (m: unknown) => listener.call(thisArg, m as never);
      listeners.add(bound);
      return { dispose: () => listeners.delete(bound) };
    };
  }

  /** Frames written in one turn of the event loop leave in one write (one syscall). */
  override start(inStream: NodeJS.ReadableStream, outStream: NodeJS.WritableStream): void {
    super.start(inStream, new CoalescingWriter(outStream) as unknown as NodeJS.WritableStream);
  }

  /** The peer broke the framing or sent a body that is not JSON: nothing after it can be trusted. */
  protected abstract brokenStream(detail: string): void;

  private read(data: Buffer): void {
    try {
      this.reader.push(data, (json) => {
        let msg: Message;
        try {
          msg = JSON.parse(json) as Message;
        } catch {
          throw new FrameError(`a body is not JSON: ${truncate(json, 80)}`);
        }
        this.handleMessage(msg);
      });
    } catch (e) {
      if (e instanceof FrameError) this.brokenStream(e.message);
      else throw e;
    }
  }

  /** Every message that arrives, valid or not, before it is handled (e.g. for a trace file). */
  onDidReceiveMessage(listener: (m: Message) => void): { dispose(): void } {
    this.receivers.add(listener);
    return { dispose: () => this.receivers.delete(listener) };
  }

  protected received(msg: Message): void {
    for (const listener of this.receivers) listener(msg);
  }

  /** Sends a request and returns the seq it went out with. */
  sendRequestSeq(command: string, args: unknown): number {
    this.lastSent = undefined;
    // cb undefined: no pending entry and no timeout timer inside ProtocolServer.
    this.sendRequest(command, args, 0, undefined as never);
    return (this.lastSent as Message | undefined)?.seq ?? -1;
  }
}

export interface ClientHandlers {
  request(request: DebugProtocol.Request): void;
  response(response: DebugProtocol.Response): void;
  /** Well-framed JSON that is not a message a client may send: ignored. */
  malformed(detail: string): void;
  /** A broken frame: the session cannot go on. */
  broken(detail: string): void;
  closed(): void;
}

/** The end that faces the DAP client (VS Code inline, or stdio for nvim-dap and others). */
export class ClientEndpoint extends Endpoint {
  handlers: ClientHandlers | undefined;

  constructor() {
    super();
    this.on('error', (e: DebugProtocol.Event) => {
      const detail = String(e.body ?? 'unreadable data');
      // A stream error means the client is gone (EPIPE): end the session, and write nothing more.
      if (/^(outStream|inStream) error/.test(detail)) this.handlers?.closed();
      else this.handlers?.malformed(detail);
    });
    this.on('close', () => this.handlers?.closed());
  }

  protected brokenStream(detail: string): void {
    this.handlers?.broken(detail);
  }

  override handleMessage(msg: Message): void {
    this.received(msg);
    if (!isMessage(msg)) {
      this.handlers?.malformed(`not a DAP message: ${truncate(JSON.stringify(msg))}`);
    } else if (msg.type === 'request') {
      this.handlers?.request(msg as DebugProtocol.Request);
    } else if (msg.type === 'response') {
      this.handlers?.response(msg as DebugProtocol.Response);
    } else {
      this.handlers?.malformed(`a client sent an unexpected ${msg.type} message`);
    }
  }

  override dispose(): void {
    this.handlers?.closed();
  }
}

export interface DlvHandlers {
  response(response: DebugProtocol.Response): void;
  event(event: DebugProtocol.Event): void;
  reverseRequest(request: DebugProtocol.Request): void;
  malformed(detail: string): void;
  broken(detail: string): void;
}

/** The end that faces dlv's DAP server over a socket. */
export class DlvEndpoint extends Endpoint {
  constructor(private readonly handlers: DlvHandlers) {
    super();
    this.on('error', (e: DebugProtocol.Event) => handlers.malformed(String(e.body ?? 'unreadable data')));
  }

  protected brokenStream(detail: string): void {
    this.handlers.broken(detail);
  }

  override handleMessage(msg: Message): void {
    this.received(msg);
    if (!isMessage(msg)) {
      this.handlers.malformed(`not a DAP message: ${truncate(JSON.stringify(msg))}`);
    } else if (msg.type === 'response') {
      this.handlers.response(msg as DebugProtocol.Response);
    } else if (msg.type === 'event') {
      this.handlers.event(msg as DebugProtocol.Event);
    } else if (msg.type === 'request') {
      this.handlers.reverseRequest(msg as DebugProtocol.Request);
    } else {
      this.handlers.malformed(`dlv sent an unknown message type ${JSON.stringify((msg as Message).type)}`);
    }
  }
}

function isMessage(msg: unknown): msg is Message {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  if (m.type === 'request') return typeof m.command === 'string';
  if (m.type === 'response') return typeof m.command === 'string' && typeof m.request_seq === 'number';
  if (m.type === 'event') return typeof m.event === 'string';
  return false;
}

function truncate(s: string | undefined, n = 200): string {
  if (s === undefined) return String(s);
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
