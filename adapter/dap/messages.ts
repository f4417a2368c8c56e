// Small builders for the messages the proxy writes itself.
import type { DebugProtocol } from '@vscode/debugprotocol';

/** Error ids of the proxy's own answers, apart from dlv's (2000-9999). */
export const ProxyErrorId = {
  badArguments: 10001,
  dlvUnavailable: 10002,
  notConnected: 10003,
  connectionLost: 10004,
  sessionEnded: 10005,
} as const;

export function errorResponse(request: DebugProtocol.Request, id: number, text: string): DebugProtocol.ErrorResponse {
  return {
    seq: 0,
    type: 'response',
    request_seq: request.seq,
    command: request.command,
    success: false,
    message: text,
    body: { error: { id, format: text, showUser: true } },
  };
}

/** A request that needs a launched or attached session, before there is one; `meanwhile`: what works without one. */
export function notConnectedResponse(request: DebugProtocol.Request, meanwhile?: string): DebugProtocol.ErrorResponse {
  return errorResponse(request, ProxyErrorId.notConnected, `"${request.command}" needs a running debug session: send "launch" or "attach" first${meanwhile ? ` (${meanwhile})` : ''}.`);
}

export function successResponse(request: DebugProtocol.Request, body?: unknown): DebugProtocol.Response {
  return { seq: 0, type: 'response', request_seq: request.seq, command: request.command, success: true, body };
}

export function event(name: string, body?: unknown): DebugProtocol.Event {
  return body === undefined ? { seq: 0, type: 'event', event: name } : { seq: 0, type: 'event', event: name, body };
}

export function outputEvent(category: 'console' | 'stdout' | 'stderr' | 'important', output: string): DebugProtocol.OutputEvent {
  return event('output', { category, output }) as DebugProtocol.OutputEvent;
}
