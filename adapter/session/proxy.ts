// The DAP proxy between a client (VS Code, nvim-dap, ...) and dlv's DAP server.
// It forwards every message unchanged unless a hook answers or rewrites it, numbers
// its own seq on each side, keeps dlv's responses and events in order, and owns the
// lifecycle of the dlv it talks to: spawn or connect, replace, and shut down.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { validateArguments, type RequestKind } from '../config/validate';
import { clientKindOf } from '../config/clientTerms';
import { isRemote } from '../config/launchArgs';
import { PINNED_DLV_CAPABILITIES } from '../dlv/capabilities';
import { DlvConnection } from '../dlv/connection';
import { waitForProcess } from '../processes/waitFor';
import { preflight } from '../dlv/preflight';
import { argumentsNameTarget, describeTarget, sameTarget, targetFromArguments, unauthenticatedWarning, type DlvTarget, type TargetDefaults } from '../dlv/target';
import { ClientEndpoint, type Received } from '../dap/endpoints';
import { requestProblem } from '../dap/requestChecks';
import { pipelineOrder, type HookFactory, type HookResult, type ProxyContext, type ProxyHook } from './hooks';
import { errorResponse, event, notConnectedResponse, outputEvent, ProxyErrorId, successResponse } from '../dap/messages';
import { OrderedOutbox } from './orderedOutbox';
import { rewriteInClientTerms } from './clientWording';
import { RecentAnswers } from './recentAnswers';
import { selfAttachProblem } from './selfAttach';
import { observeEndpoint, type MessageObserver } from '../dap/traceFile';

type Message = DebugProtocol.ProtocolMessage;
/** A message on its way to the client, with its original text while no hook changed it. */
type Outgoing = Received;

/** How long an annotation may wait for dlv before it is dropped (dlv answers reads in milliseconds; an emulated board in seconds). */
const OWN_REQUEST_TIMEOUT_MS = 15_000;
/** How long a new dlv may take to answer `initialize` (dlv attached to a 500 MB runsc on a Pi loads symbols first). */
const HANDSHAKE_TIMEOUT_MS = 30_000;
const NO_ANSWER = 'no answer from dlv';
/**
 * How long dlv may take to answer `disconnect` before the proxy ends it itself: ending a large
 * program takes seconds, but a dlv stuck in its target (stepped over the program's exit_group, it
 * never returns) would otherwise leave the client waiting for ever.
 */
const DISCONNECT_TIMEOUT_MS = 10_000;

export interface ProxyOptions {
  /** Known up front (VS Code hands the resolved configuration over): connect before `initialize`. */
  initialTarget?: DlvTarget;
  defaults?: TargetDefaults;
  /** Makes the session's hooks (they run in pipelineOrder). */
  hooks?: HookFactory;
  /** Diagnostics for the proxy's own log (not sent to the client); dlv's lifecycle is 'info'. */
  log?: (line: string, level?: 'info' | 'debug') => void;
  /** How long an annotation waits for dlv (default 15 s); the fuzz tests shorten it. */
  ownRequestTimeoutMs?: number;
  /** How long a new connection may take to answer `initialize` (default 30 s). */
  handshakeTimeoutMs?: number;
  /** How long dlv may take to answer `disconnect` before the session is ended without it (default 10 s). */
  disconnectTimeoutMs?: number;
  /** Called once the session has ended and everything queued reached the client. */
  onEnded?: () => void;
  /** Sees every message on both sides, e.g. a DAP trace file (traceFile.ts). */
  observe?: MessageObserver;
}

export class DlvProxy implements ProxyContext {
  readonly client = new ClientEndpoint();
  private conn: DlvConnection | undefined;
  /** dlv-side seq of a forwarded request → the client's request. */
  private forwarded = new Map<number, DebugProtocol.Request>();
  /** dlv-side seq of recently answered forwarded requests, for a second answer to the same one. */
  private answered = new RecentAnswers(256);
  /** dlv-side seq of the proxy's own request → its resolver. */
  private own = new Map<number, (r: DebugProtocol.Response) => void>();
  /** client-side seq of a reverse request → dlv's seq for it. */
  private reverse = new Map<number, number>();
  private readonly outbox: OrderedOutbox<Outgoing>;
  private dispatchChain: Promise<void> = Promise.resolve();
  private initializeArgs: unknown;
  private deferredInitialize = false;
  private ending = false;
  private ended = false;
  /** The launch or attach sent to dlv and not refused by it: this session debugs that program until it ends. */
  private started: DebugProtocol.Request | undefined;
  /** Why dlv was lost mid-session (the session cannot go on), once it was. */
  private lost: string | undefined;
  /** The one shutdown in progress, shared by every caller. */
  private shutdownPromise: Promise<void> | undefined;
  /** The client closed its end: nothing can be delivered any more. */
  private clientGone = false;
  /** A `terminated` event reached the client (from dlv or ours). */
  private terminatedSent = false;
  private args: Record<string, unknown> | undefined;
  /** An attach waiting for its process to start (waitFor). */
  private waiting: AbortController | undefined;
  /** A connection being opened (dlv starting): the end waits for it. */
  private connecting: Promise<void> | undefined;
  private warnedUnauthenticated = false;
  private readonly hooks: ProxyHook[];
  private readonly ownTimeoutMs: number;

  constructor(private readonly options: ProxyOptions = {}) {
    this.hooks = pipelineOrder(options.hooks?.(this) ?? []);
    this.ownTimeoutMs = options.ownRequestTimeoutMs ?? OWN_REQUEST_TIMEOUT_MS;
    observeEndpoint(this.client, 'client', options.observe);
    this.outbox = new OrderedOutbox<Outgoing>(
      (m) => this.deliver(m),
      (e) => this.log(`outbox: ${String(e)}`),
    );
    this.client.handlers = {
      request: (r) => this.onClientRequest(r),
      response: (r) => this.onClientResponse(r),
      tooDeep: (request, text) => this.refuse(request, text),
      malformed: (detail) => this.push(outputEvent('stderr', `bluepill-lens: ignored a malformed message from the client: ${detail}\n`)),
      broken: (detail) => this.onClientBroken(detail),
      closed: () => {
        this.clientGone = true;
        void this.shutdown();
      },
    };
  }

  get sessionArgs(): Readonly<Record<string, unknown>> | undefined {
    return this.args;
  }

  /** The pid of the dlv this proxy spawned, if any (for tests and diagnostics). */
  get dlvPid(): number | undefined {
    return this.conn?.pid;
  }

  // ---- ProxyContext ------------------------------------------------------------

  requestDlv(command: string, args?: unknown, timeoutMs = this.ownTimeoutMs): Promise<DebugProtocol.Response> {
    const conn = this.conn;
    if (!conn) return Promise.resolve(this.syntheticFailure(command, 'not connected to dlv'));
    return new Promise((resolve) => {
      const seq = conn.endpoint.sendRequest(command, args);
      // A hook waits on this answer while later messages queue behind it: never wait forever.
      const timer = setTimeout(() => {
        if (!this.own.delete(seq)) return;
        this.log(`dlv did not answer the proxy's own "${command}" within ${timeoutMs / 1000} s; its annotation is skipped`);
        resolve(this.syntheticFailure(command, NO_ANSWER));
      }, timeoutMs);
      timer.unref();
      this.own.set(seq, (response) => {
        clearTimeout(timer);
        if (!response.success) this.log(`the proxy's own "${command}" failed (${response.message ?? 'no message'}); its annotation is skipped`);
        resolve(response);
      });
    });
  }

  localProcesses(): number[] {
    const conn = this.conn;
    if (!conn || conn.target.kind === 'remote' || !this.args || isRemote(this.args)) return [];
    if (typeof this.args.processId === 'number') return [this.args.processId];
    return conn.programs;
  }

  clientWritten(): Promise<void> | undefined {
    return this.client.written();
  }

  sendEvent(name: string, body?: unknown): void {
    this.push(event(name, body));
  }

  /** Queues a message of the proxy's own for the client, in order. */
  private push(message: Message): void {
    this.outbox.push({ message });
  }

  // ---- from the client ---------------------------------------------------------

  private onClientRequest(request: DebugProtocol.Request): void {
    // A disconnect must not queue behind an attach that waits for its process.
    if (request.command === 'disconnect' || request.command === 'terminate') this.waiting?.abort();
    // One at a time, so a request that must wait for a connection keeps its place.
    this.dispatchChain = this.dispatchChain
      .then(() => this.dispatch(request))
      .catch((e) => this.reply(errorResponse(request, ProxyErrorId.dlvUnavailable, errorText(e))));
  }

  /** Answers a request that is not run with an error, in its place among the others. */
  private refuse(request: DebugProtocol.Request, text: string): void {
    this.dispatchChain = this.dispatchChain.then(() => this.reply(errorResponse(request, ProxyErrorId.badArguments, text)));
  }

  private async dispatch(request: DebugProtocol.Request): Promise<void> {
    if (this.ended) {
      return this.reply(errorResponse(request, ProxyErrorId.sessionEnded, 'This debug session has ended. Start a new one.'));
    }
    const problem = requestProblem(request);
    if (problem) return this.reply(errorResponse(request, ProxyErrorId.badArguments, problem));
    for (const hook of this.hooks) {
      let answer = hook.answer?.(request);
      if (answer instanceof Promise) answer = await answer; // most hooks answer at once: no extra tick
      if (answer) return this.reply(answer);
    }
    switch (request.command) {
      case 'initialize':
        return this.initialize(request);
      case 'launch':
      case 'attach':
        return this.launchOrAttach(request, request.command);
      case 'disconnect':
      case 'terminate':
        if (request.command === 'disconnect') this.ending = true;
        if (!this.conn) {
          this.reply(successResponse(request));
          if (request.command === 'disconnect') void this.shutdown();
          return;
        }
        this.forward(request);
        if (request.command === 'disconnect') this.endUnanswered(request);
        return;
      case 'cancel':
        return this.cancel(request);
      default:
        if (!this.conn) {
          if (this.lost !== undefined) return this.reply(errorResponse(request, ProxyErrorId.sessionEnded, `"${request.command}" cannot run: dlv was lost, and this debug session has ended (${this.lost}). Start a new debug session.`));
          return this.reply(notConnectedResponse(request));
        }
        return this.forward(request);
    }
  }

  private async initialize(request: DebugProtocol.Request): Promise<void> {
    // A second initialize (a confused client) goes to the dlv we have: never a second connection.
    if (this.conn) return this.forward(request);
    this.initializeArgs = request.arguments;
    if (!this.options.initialTarget) {
      // No dlv yet (launch will name it): the pinned dlv's answer; the real one follows as an event.
      this.deferredInitialize = true;
      return this.reply(successResponse(request, structuredClone(PINNED_DLV_CAPABILITIES)));
    }
    await this.connect(this.options.initialTarget);
    const response = await this.handshake(request.arguments);
    this.outbox.push(this.rewriteResponse({ message: { ...response, seq: 0, request_seq: request.seq } }, request));
  }

  /**
   * Sends `initialize` to a new connection. Something that accepts connections but never
   * answers (not dlv, or a hung one) fails here with a message instead of hanging the session.
   */
  private async handshake(args: unknown): Promise<DebugProtocol.Response> {
    const response = await this.requestDlv('initialize', args, this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    if (response.message !== NO_ANSWER) return response;
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close(0);
    throw new Error(
      `${conn ? describeTarget(conn.target) : 'dlv'} accepted the connection but did not answer "initialize" within ${(this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS) / 1000} s. ` +
        'Check that a dlv DAP server listens there (`dlv --headless` or `dlv dap`) and that it is not stopped or busy with another client.',
    );
  }

  private async launchOrAttach(request: DebugProtocol.Request, kind: RequestKind): Promise<void> {
    // One program per session, whichever dlv a second request names: never tear down the one being debugged.
    if (this.started !== undefined || this.lost !== undefined) {
      const why = this.lost !== undefined ? `dlv was lost, and this debug session has ended (${this.lost})` : 'this debug session has launched or attached already';
      return this.reply(errorResponse(request, ProxyErrorId.badArguments, `Cannot ${kind}: ${why}. End this debug session, then start a new one (or start another debug session beside it) for another program.`));
    }
    const client = clientKindOf(this.initializeArgs);
    const { args, errors, warnings } = validateArguments(kind, request.arguments ?? {}, client);
    if (errors.length) {
      const text = `Invalid ${kind} configuration: ${[...errors, ...warnings].join(' ')}`;
      return this.reply(errorResponse(request, ProxyErrorId.badArguments, text));
    }
    if (kind === 'attach' && !isRemote(args) && typeof args.waitFor === 'string') {
      const pid = await this.waitForProcess(args.waitFor);
      if (pid === undefined) return this.reply(errorResponse(request, ProxyErrorId.sessionEnded, `No process whose command line starts with "${args.waitFor}" started before the attach was cancelled.`));
      args.processId = pid;
      delete args.waitFor;
    }
    const ownBefore = kind === 'attach' && !isRemote(args) ? this.ownProcess(args.processId) : undefined;
    if (ownBefore) return this.reply(errorResponse(request, ProxyErrorId.badArguments, ownBefore));
    const checked = preflight(kind, args, client);
    if (checked.problem) return this.reply(errorResponse(request, ProxyErrorId.badArguments, checked.problem));
    for (const warning of [...warnings, ...checked.warnings]) this.push(outputEvent('important', `bluepill-lens: ${warning}\n`));
    this.args = args;
    // A client that named no dlv keeps the one it already has (e.g. `adapter --connect`).
    const target = this.conn && !argumentsNameTarget(args) ? this.conn.target : targetFromArguments(args, this.options.defaults);
    if (!this.conn || !sameTarget(this.conn.target, target)) {
      await this.replaceConnection(target);
    }
    // A dlv started just now for this request is checked too.
    const own = kind === 'attach' && !isRemote(args) ? this.ownProcess(args.processId) : undefined;
    if (own) return this.reply(errorResponse(request, ProxyErrorId.badArguments, own));
    const sent = { ...request, arguments: args };
    this.started = sent;
    this.forward(sent);
  }

  /** attach "waitFor": until a matching process runs (never this session's own), or the client disconnects. */
  private async waitForProcess(prefix: string): Promise<number | undefined> {
    this.push(outputEvent('console', `bluepill-lens: waiting for a process whose command line starts with "${prefix}"...\n`));
    this.waiting = new AbortController();
    try {
      const pid = await waitForProcess(prefix, (p) => this.ownProcess(p) !== undefined, this.waiting.signal);
      if (pid !== undefined) this.push(outputEvent('console', `bluepill-lens: process ${pid} started; attaching to it.\n`));
      return pid;
    } finally {
      this.waiting = undefined;
    }
  }

  /** Why `pid` may not be attached to: it is part of this session. */
  private ownProcess(pid: unknown): string | undefined {
    return typeof pid === 'number' ? selfAttachProblem(pid, this.conn) : undefined;
  }

  /** Connects to `target`, dropping any other dlv first, and replays `initialize` on it. */
  private async replaceConnection(target: DlvTarget): Promise<void> {
    if (this.conn) {
      const old = this.conn;
      this.conn = undefined;
      await old.close(0);
    }
    await this.connect(target);
    if (this.initializeArgs !== undefined) {
      const response = await this.handshake(this.initializeArgs);
      if (this.deferredInitialize && response.success) this.sendEvent('capabilities', { capabilities: response.body ?? {} });
    }
  }

  /** Opens a connection; the session's end waits for one being opened (and closes it). */
  private connect(target: DlvTarget): Promise<void> {
    const connecting = this.openConnection(target);
    this.connecting = connecting;
    return connecting.finally(() => {
      if (this.connecting === connecting) this.connecting = undefined;
    });
  }

  private async openConnection(target: DlvTarget): Promise<void> {
    const warning = unauthenticatedWarning(target);
    if (warning && !this.warnedUnauthenticated) {
      this.warnedUnauthenticated = true;
      this.push(outputEvent('important', `bluepill-lens: ${warning}\n`));
    }
    const conn = await DlvConnection.open(target, {
      response: (r) => this.onDlvResponse(r),
      event: (e) => this.outbox.push(this.rewriteEvent(e)),
      reverseRequest: (r) => this.push(r),
      malformed: (detail) => this.push(outputEvent('stderr', `bluepill-lens: ignored a malformed message from dlv: ${detail}\n`)),
      broken: (detail) => this.onConnectionLost(`dlv sent a broken DAP frame (${detail}); the session cannot continue. Report it with a DAP trace (in VS Code the setting bluepill.trace; elsewhere \`bluepill-lens adapter --verbose\`).`),
      output: (category, text) => this.push(outputEvent(category, text)),
      lost: (why) => this.onConnectionLost(why),
    });
    if (this.ended) {
      // The client left while dlv was starting: nobody will ever end this dlv but us.
      await conn.close(0);
      throw new Error('The session ended while dlv was starting.');
    }
    this.conn = conn;
    observeEndpoint(this.conn.endpoint, 'dlv', this.options.observe);
    this.log(`connected to ${describeTarget(target)}${this.conn.pid ? `, spawned as pid ${this.conn.pid}` : ''}`, 'info');
  }

  /**
   * `cancel` names the request by the client's seq; dlv knows it by the proxy's. A request not
   * waiting for dlv (answered, or never sent) has nothing to cancel: answered here, so dlv never
   * cancels another request that happens to have that number.
   */
  private cancel(request: DebugProtocol.Request): void {
    const args = (request.arguments ?? {}) as DebugProtocol.CancelArguments;
    if (args.requestId === undefined || !this.conn) return this.conn ? this.forward(request) : this.reply(successResponse(request));
    const dlvSeq = [...this.forwarded].find(([, r]) => r.seq === args.requestId)?.[0];
    if (dlvSeq === undefined) return this.reply(successResponse(request));
    this.forward({ ...request, arguments: { ...args, requestId: dlvSeq } });
  }

  private forward(request: DebugProtocol.Request): void {
    const seq = this.conn!.endpoint.sendRequest(request.command, request.arguments);
    this.forwarded.set(seq, request);
  }

  /** Answers a `disconnect` dlv has not answered in time, and ends the session without it. */
  private endUnanswered(request: DebugProtocol.Request): void {
    const ms = this.options.disconnectTimeoutMs ?? DISCONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      const pending = [...this.forwarded].find(([, r]) => r === request);
      if (!pending || this.ended) return;
      this.forwarded.delete(pending[0]);
      const pid = this.conn?.pid;
      this.push(
        outputEvent(
          'stderr',
          `bluepill-lens: dlv did not answer "disconnect" within ${ms / 1000} s: it is stuck (for example after stepping over the program's exit), so the session ends without it: ${pid ? `dlv (pid ${pid}) is ended, and what it started with it` : 'the connection to dlv is closed; restart dlv on the board if it no longer answers'}.\n`,
        ),
      );
      this.reply(successResponse(request));
      void this.shutdown();
    }, ms);
    timer.unref();
  }

  private onClientResponse(response: DebugProtocol.Response): void {
    const dlvSeq = this.reverse.get(response.request_seq);
    if (dlvSeq === undefined || !this.conn) return;
    this.reverse.delete(response.request_seq);
    this.conn.endpoint.send({ ...response, seq: 0, request_seq: dlvSeq } as DebugProtocol.Response);
  }

  // ---- from dlv ----------------------------------------------------------------

  private onDlvResponse(received: Received<DebugProtocol.Response>): void {
    const response = received.message;
    const mine = this.own.get(response.request_seq);
    if (mine) {
      this.own.delete(response.request_seq);
      mine(response);
      return;
    }
    const request = this.forwarded.get(response.request_seq);
    if (!request) return this.onSecondAnswer(received);
    this.forwarded.delete(response.request_seq);
    this.answered.remember(response.request_seq, { request, success: response.success });
    if (request === this.started && !response.success) this.started = undefined;
    const reworded = rewriteInClientTerms(response, response.request_seq, request.seq, this.conn?.spawnedAddress);
    response.request_seq = request.seq;
    this.outbox.push(this.rewriteResponse(reworded ? { message: response } : received, request));
    if (request.command === 'disconnect') void this.shutdown();
  }

  /**
   * dlv 1.27.2 answers some requests twice (`restart`: success, then "Failed to restart:
   * cannot rebuild a binary"). The second answer goes on as dlv sent it, and when it
   * contradicts the first it is also said in the console, where clients that ignore a
   * second response still show it.
   */
  private onSecondAnswer(received: Received<DebugProtocol.Response>): void {
    const response = received.message;
    const first = this.answered.get(response.request_seq);
    if (!first) {
      this.log(`dropped a response to unknown request_seq ${response.request_seq}`);
      return;
    }
    response.request_seq = first.request.seq;
    this.outbox.push(received);
    if (first.success === response.success) return;
    const text = (response as DebugProtocol.ErrorResponse).body?.error?.format ?? response.message ?? '';
    const outcome = response.success ? 'it succeeded after all' : `it failed after all: ${text}`;
    this.push(outputEvent('important', `bluepill-lens: dlv answered "${first.request.command}" a second time, and ${outcome}\n`));
  }

  private rewriteResponse(received: Received<DebugProtocol.Response>, request: DebugProtocol.Request): Outgoing | Promise<Outgoing> {
    const response = received.message;
    return this.applyHooks(received, (h) => h.rewriteResponse?.(response, request));
  }

  private rewriteEvent(received: Received<DebugProtocol.Event>): Outgoing | Promise<Outgoing> {
    const e = received.message;
    return this.applyHooks(received, (h) => h.rewriteEvent?.(e));
  }

  /**
   * Runs hooks in pipeline order; stays synchronous until a hook needs to wait. A failing
   * hook leaves the message as it was. A hook that changed the message says so, and the
   * message is then written anew instead of as its original text.
   */
  private applyHooks(out: Outgoing, run: (h: ProxyHook) => HookResult, from = 0): Outgoing | Promise<Outgoing> {
    for (let i = from; i < this.hooks.length; i++) {
      let result: HookResult;
      try {
        result = run(this.hooks[i]);
      } catch (e) {
        this.log(`hook ${this.hooks[i].name} failed: ${errorText(e)}`);
        continue;
      }
      if (result instanceof Promise) {
        const name = this.hooks[i].name;
        return result.then(
          (changed) => this.applyHooks(changed ? { message: out.message } : out, run, i + 1),
          (e) => {
            this.log(`hook ${name} failed: ${errorText(e)}`);
            return this.applyHooks({ message: out.message }, run, i + 1);
          },
        );
      }
      if (result) out = { message: out.message };
    }
    return out;
  }

  private deliver({ message, json }: Outgoing): void {
    if (this.clientGone) return;
    // Every message here is the proxy's own object (parsed on arrival, or built here), so it
    // is numbered in place; unchanged ones leave as the text they came in.
    if (message.type === 'event' && (message as DebugProtocol.Event).event === 'terminated') this.terminatedSent = true;
    if (message.type === 'request') {
      const r = message as DebugProtocol.Request;
      this.reverse.set(this.client.sendRequest(r.command, r.arguments), r.seq);
    } else this.client.send(message, json);
  }

  private reply(response: DebugProtocol.Response): void {
    this.push(response);
  }

  // ---- endings -----------------------------------------------------------------

  /** The client's stream lost its framing: say why, end the session, and stop dlv. */
  private onClientBroken(detail: string): void {
    if (this.ended) return;
    this.push(outputEvent('stderr', `bluepill-lens: the client sent a broken DAP frame (${detail}); ending the session.\n`));
    this.failPending('the session ended on a broken frame from the client.');
    this.push(event('terminated'));
    void this.shutdown();
  }

  private onConnectionLost(explanation: string): void {
    this.log(`dlv lost: ${explanation}`, 'info');
    const conn = this.conn;
    this.conn = undefined;
    void conn?.close(0);
    for (const [, resolve] of this.own) resolve(this.syntheticFailure('', explanation));
    this.own.clear();
    if (this.ending || this.ended) {
      this.failPending('The debug session ended before dlv answered.');
      return;
    }
    this.lost = explanation;
    this.push(outputEvent('stderr', `bluepill-lens: ${explanation}\n`));
    this.failPending(explanation);
    this.push(event('terminated'));
  }

  private failPending(text: string): void {
    for (const [, request] of this.forwarded) {
      this.reply(errorResponse(request, ProxyErrorId.connectionLost, `dlv did not answer "${request.command}": ${text}`));
    }
    this.forwarded.clear();
  }

  /** Ends the session: lets a spawned dlv exit on its own (after disconnect), then makes sure. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.end().finally(() => this.options.onEnded?.());
    return this.shutdownPromise;
  }

  private async end(): Promise<void> {
    this.ended = true;
    this.waiting?.abort();
    await this.connecting?.catch(() => undefined);
    const conn = this.conn;
    this.conn = undefined;
    if (conn) {
      if (!this.ending) {
        // The client went away without disconnecting: detach (or end what dlv launched) politely.
        conn.endpoint.sendRequest('disconnect', {});
      }
      await conn.close(2000);
      this.log(`session ended: ${describeTarget(conn.target)} closed${conn.pid ? ` (pid ${conn.pid} exited)` : ''}`, 'info');
    }
    // Nothing is left unanswered: whatever dlv had not answered gets an error.
    for (const [, resolve] of this.own) resolve(this.syntheticFailure('', 'the session ended'));
    this.own.clear();
    this.failPending('The debug session ended before dlv answered.');
    await this.outbox.idle();
    // After a disconnect the client waits for `terminated`, also when no dlv ever started.
    if (this.ending && !this.terminatedSent) {
      this.push(event('terminated'));
      await this.outbox.idle();
    }
  }

  private syntheticFailure(command: string, message: string): DebugProtocol.Response {
    return { seq: 0, type: 'response', request_seq: -1, command, success: false, message };
  }

  private log(line: string, level: 'info' | 'debug' = 'debug'): void {
    this.options.log?.(line, level);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
