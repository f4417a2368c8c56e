// The proxy is a pipe with two kinds of hook: answer a request itself, or rewrite a
// response or event on its way back to the client. Each feature is one hook module.
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface ProxyContext {
  /** Sends a request of the proxy's own to dlv; its response never reaches the client. */
  requestDlv(command: string, args?: unknown): Promise<DebugProtocol.Response>;
  /** Sends an event to the client, after everything dlv sent before it. */
  sendEvent(event: string, body?: unknown): void;
  /** The launch/attach arguments of this session, once known. */
  readonly sessionArgs: Readonly<Record<string, unknown>> | undefined;
}

export interface ProxyHook {
  readonly name: string;
  /** Return a response to answer the request without dlv, or undefined to forward it. */
  answer?(request: DebugProtocol.Request, ctx: ProxyContext): DebugProtocol.Response | undefined | Promise<DebugProtocol.Response | undefined>;
  /** Rewrite (mutate) a dlv response before the client sees it. */
  rewriteResponse?(response: DebugProtocol.Response, request: DebugProtocol.Request, ctx: ProxyContext): void | Promise<void>;
  /** Rewrite (mutate) a dlv event before the client sees it. */
  rewriteEvent?(event: DebugProtocol.Event, ctx: ProxyContext): void | Promise<void>;
}
