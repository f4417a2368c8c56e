// The bluepill tracker for a debug session the proxy is not part of (vscode-go's
// own dlv-dap, say): it watches the messages a client and dlv exchange, runs the
// same tracker and explain logic on copies of what it sees, and asks dlv only
// read requests of its own (stackTrace, disassemble, evaluate, readMemory)
// through `request`. It changes nothing: annotations need the proxy.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyContext } from '../../session/hooks';
import { STATE_EVENT, type BluepillStateEvent } from '../../bluepill/state';
import type { Explanation } from '../../explain/explain';
import { EXPLAIN_REQUEST, explainRequest } from './explainRequest';
import { BluepillSession, type BluepillSettings } from './session';
import { bluepillTracker } from './tracker';

/** Sends a request to the debug adapter and resolves with its body (rejects with its message). */
export type RequestFn = (command: string, args?: unknown) => Promise<unknown>;

const READS = new Set(['stackTrace', 'disassemble', 'evaluate', 'readMemory', 'threads', 'scopes', 'variables']);

export class ReadOnlyObserver {
  private readonly session: BluepillSession;
  private readonly tracker;
  private readonly explainer;
  /** Requests the client sent, by seq, until their response passes. */
  private readonly requests = new Map<number, DebugProtocol.Request>();

  /** `onState` gets each state event's body: its trips only when they changed (applyStateEvent keeps the others). */
  constructor(request: RequestFn, onState: (state: BluepillStateEvent) => void, configuration: Record<string, unknown>, settings: BluepillSettings = {}) {
    const ctx: ProxyContext = {
      sessionArgs: configuration,
      sendEvent: (name, body) => {
        if (name === STATE_EVENT) onState(body as BluepillStateEvent);
      },
      requestDlv: async (command, args) => {
        const base = { seq: 0, type: 'response', request_seq: -1, command } as const;
        if (!READS.has(command)) return { ...base, success: false, message: `${command} is not a read: this session is read-only` };
        try {
          return { ...base, success: true, body: await request(command, args) };
        } catch (e) {
          return { ...base, success: false, message: (e as Error).message };
        }
      },
    };
    this.session = new BluepillSession(ctx, settings);
    this.tracker = bluepillTracker(this.session);
    this.explainer = explainRequest(this.session);
  }

  /** A message from the client to the debug adapter. */
  fromClient(message: DebugProtocol.ProtocolMessage): void {
    if (message.type !== 'request') return;
    const request = message as DebugProtocol.Request;
    this.requests.set(request.seq, request);
    void this.tracker.answer?.(request);
  }

  /** A message from the debug adapter to the client. */
  fromAdapter(message: DebugProtocol.ProtocolMessage): void {
    if (message.type === 'event') {
      void this.tracker.rewriteEvent?.(message as DebugProtocol.Event);
    } else if (message.type === 'response') {
      const response = message as DebugProtocol.Response;
      const request = this.requests.get(response.request_seq);
      if (!request) return;
      this.requests.delete(response.request_seq);
      if (request.command === 'stackTrace' && response.success) this.session.rememberFrames((response as DebugProtocol.StackTraceResponse).body.stackFrames);
    }
  }

  /** Explain This PC: `{ frameId }` of a frame the client was shown, or `{ address }`. */
  async explain(args: { frameId?: number; address?: string }): Promise<Explanation> {
    const request: DebugProtocol.Request = { seq: 0, type: 'request', command: EXPLAIN_REQUEST, arguments: args };
    const response = await this.explainer.answer!(request);
    if (!response?.success) throw new Error(response?.message ?? 'no explanation');
    return response.body as Explanation;
  }
}
