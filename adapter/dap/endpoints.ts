// The two ends of the proxy, ours from the bytes up: a strict FrameReader on the way
// in (a stream that has lost its frame boundaries ends the session), our own seq
// numbering on the way out, and the inline transport VS Code uses (handleMessage in,
// onDidSendMessage out). A message that arrives and leaves unchanged is written as
// the bytes it came in, with only its numbers spliced: no second serialisation.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CoalescingWriter } from './coalescingWriter';
import { frame, FrameError, FrameReader } from './framing';
import { MAX_MESSAGE_DEPTH, nestedDeeperThan } from './nesting';

type Message = DebugProtocol.ProtocolMessage;
type Listener = (m: Message) => void;

/** A message as it arrived, and its JSON text while it stays unchanged. */
export interface Received<T extends Message = Message> {
  message: T;
  /** The exact text the message was read from; dropped by whoever changes the message. */
  json?: string;
}

/**
 * The text of `message`, numbered: the original text with its `seq` (and a response's
 * `request_seq`) spliced in when they lead it, as dlv writes them and no key repeats
 * later; otherwise written anew.
 */
export function numberedJson(message: Message, original: string | undefined): string {
  if (original !== undefined) {
    const lead = /^\{"seq":\d+,"type":"(?:event|request|response)"(?:,"request_seq":\d+)?/.exec(original);
    const isResponse = message.type === 'response';
    const hasRequestSeq = lead !== null && lead[0].includes('"request_seq"');
    if (lead && hasRequestSeq === isResponse && original.indexOf('"seq":', lead[0].length) < 0 && original.indexOf('"request_seq":', lead[0].length) < 0) {
      const head = `{"seq":${message.seq},"type":"${message.type}"${isResponse ? `,"request_seq":${(message as DebugProtocol.Response).request_seq}` : ''}`;
      return head + original.slice(lead[0].length);
    }
  }
  return JSON.stringify(message);
}

abstract class Endpoint {
  private nextSeq = 1;
  private output: CoalescingWriter | undefined;
  private readonly reader = new FrameReader();
  private readonly sendListeners = new Set<Listener>();
  private readonly receiveListeners = new Set<Listener>();

  /** Reads DAP frames from `input`, writes them to `output` (frames of one turn in one write). */
  start(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): void {
    this.output = new CoalescingWriter(output);
    input.on('data', (data: Buffer | string) => this.read(typeof data === 'string' ? Buffer.from(data) : data));
    input.on('end', () => this.streamClosed());
    input.on('close', () => this.streamClosed());
    input.on('error', (e: Error) => this.streamError(`inStream error: ${e.message}`));
    output.on('error', (e: Error) => this.streamError(`outStream error: ${e.message}`));
  }

  /** Inline transport: a message handed over as an object (VS Code's DebugAdapter interface). */
  handleMessage(message: Message): void {
    this.receive({ message });
  }

  /** Every message sent, as an object (VS Code's inline host listens here; so does a trace). */
  onDidSendMessage(listener: Listener, thisArg?: unknown): { dispose(): void } {
    const bound: Listener = (m) => listener.call(thisArg, m);
    this.sendListeners.add(bound);
    return { dispose: () => this.sendListeners.delete(bound) };
  }

  /** Every message that arrives, valid or not, before it is handled (e.g. for a trace file). */
  onDidReceiveMessage(listener: Listener): { dispose(): void } {
    this.receiveListeners.add(listener);
    return { dispose: () => this.receiveListeners.delete(listener) };
  }

  /**
   * Numbers and sends a message (an object we own: its seq is set in place). `json` is
   * the text it was read from, if it is unchanged since: it is then written as is.
   */
  send(message: Message, json?: string): number {
    message.seq = this.nextSeq++;
    if (this.output) this.output.write(frame(numberedJson(message, json)));
    for (const listener of this.sendListeners) listener(message);
    return message.seq;
  }

  /** Resolves once every message sent so far has been written; undefined when none waits (always, inline). */
  written(): Promise<void> | undefined {
    return this.output?.written();
  }

  /** Sends a request and returns the seq it went out with. */
  sendRequest(command: string, args: unknown): number {
    const request: DebugProtocol.Request = { seq: 0, type: 'request', command };
    if (args !== undefined) request.arguments = args;
    return this.send(request);
  }

  /** Writes what is queued and ends the output stream. */
  end(): void {
    this.output?.end();
    this.output = undefined;
  }

  protected abstract handle(received: Received): void;
  /** The peer broke the framing or sent a body that is not JSON: nothing after it can be trusted. */
  protected abstract brokenStream(detail: string): void;
  protected abstract streamClosed(): void;
  protected abstract streamError(detail: string): void;

  private read(data: Buffer): void {
    try {
      this.reader.push(data, (json) => {
        let message: Message;
        try {
          message = JSON.parse(json) as Message;
        } catch {
          throw new FrameError(`a body is not JSON: ${truncate(json, 80)}`);
        }
        this.receive({ message, json });
      });
    } catch (e) {
      if (e instanceof FrameError) this.brokenStream(e.message);
      else throw e;
    }
  }

  private receive(received: Received): void {
    if (nestedDeeperThan(received.message, MAX_MESSAGE_DEPTH)) {
      // Nothing may serialise it (a trace, an echoed seq): only a shallow summary goes on.
      this.tooDeep(shallowSummary(received.message));
      return;
    }
    for (const listener of this.receiveListeners) listener(received.message);
    if (!isMessage(received.message)) {
      this.malformed(`not a DAP message: ${truncate(JSON.stringify(received.message))}`);
      return;
    }
    this.handle(received);
  }

  protected abstract malformed(detail: string): void;

  /** A message nested too deep to handle; `summary` holds only its type, command and a numeric seq. */
  protected tooDeep(summary: Message): void {
    this.malformed(`a ${summary.type ?? 'message'} nested more than ${MAX_MESSAGE_DEPTH} levels deep`);
  }
}

function shallowSummary(message: unknown): Message {
  const m = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { seq: typeof m.seq === 'number' ? m.seq : 0, type: text(m.type) ?? '', command: text(m.command), event: text(m.event) } as Message;
}

export interface ClientHandlers {
  request(request: DebugProtocol.Request): void;
  response(response: DebugProtocol.Response): void;
  /** Well-framed JSON that is not a message a client may send: ignored. */
  malformed(detail: string): void;
  /** A request nested too deep to handle (`request` keeps only its command and a numeric seq). */
  tooDeep(request: DebugProtocol.Request, text: string): void;
  /** A broken frame: the session cannot go on. */
  broken(detail: string): void;
  closed(): void;
}

/** The end that faces the DAP client (VS Code inline, or stdio for nvim-dap and others). */
export class ClientEndpoint extends Endpoint {
  handlers: ClientHandlers | undefined;

  protected handle({ message }: Received): void {
    if (message.type === 'request') this.handlers?.request(message as DebugProtocol.Request);
    else if (message.type === 'response') this.handlers?.response(message as DebugProtocol.Response);
    else this.malformed(`a client sent an unexpected ${message.type} message`);
  }

  protected malformed(detail: string): void {
    this.handlers?.malformed(detail);
  }

  protected override tooDeep(summary: Message): void {
    const request = summary as DebugProtocol.Request;
    if (request.type !== 'request' || typeof request.command !== 'string') return super.tooDeep(summary);
    this.handlers?.tooDeep(
      { seq: request.seq, type: 'request', command: request.command },
      `The "${request.command}" request is nested more than ${MAX_MESSAGE_DEPTH} levels deep (in its seq or its arguments); no DAP request is. It was not run: check what builds it.`,
    );
  }

  protected brokenStream(detail: string): void {
    this.handlers?.broken(detail);
  }

  // The client is gone (its end closed, or EPIPE): end the session, and write nothing more.
  protected streamClosed(): void {
    this.handlers?.closed();
  }

  protected streamError(): void {
    this.handlers?.closed();
  }

  /** VS Code ends an inline session with dispose(). */
  dispose(): void {
    this.handlers?.closed();
  }
}

export interface DlvHandlers {
  response(response: Received<DebugProtocol.Response>): void;
  event(event: Received<DebugProtocol.Event>): void;
  reverseRequest(request: DebugProtocol.Request): void;
  malformed(detail: string): void;
  broken(detail: string): void;
}

/** The end that faces dlv's DAP server over a socket. */
export class DlvEndpoint extends Endpoint {
  constructor(private readonly handlers: DlvHandlers) {
    super();
  }

  protected handle(received: Received): void {
    const { message } = received;
    if (message.type === 'response') this.handlers.response(received as Received<DebugProtocol.Response>);
    else if (message.type === 'event') this.handlers.event(received as Received<DebugProtocol.Event>);
    else if (message.type === 'request') this.handlers.reverseRequest(message as DebugProtocol.Request);
    else this.malformed(`dlv sent an unknown message type ${JSON.stringify(message.type)}`);
  }

  protected malformed(detail: string): void {
    this.handlers.malformed(detail);
  }

  protected brokenStream(detail: string): void {
    this.handlers.broken(detail);
  }

  // The connection reports its own end (DlvConnection watches the socket): an error on it (a reset)
  // is followed by its close, and is no message of dlv's.
  protected streamClosed(): void {}

  protected streamError(): void {}
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
