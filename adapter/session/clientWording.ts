// dlv's error texts speak of dlv's side of the proxy: the seq the proxy gave the request,
// and the loopback address of a dlv the proxy spawned. The client knows neither: its own
// seq, and "this session", are what it can act on.
import type { DebugProtocol } from '@vscode/debugprotocol';

const IN_PROGRESS = /debug session already in progress at (\S+) - use remote (?:attach )?mode to connect to a server with an active debug session/;

/** The text in the client's terms, or undefined when nothing in it is the proxy's own. */
export function inClientTerms(text: string, dlvSeq: number, clientSeq: number, internalAddress: string | undefined): string | undefined {
  let out = text.replace(`(seq: ${dlvSeq})`, `(seq: ${clientSeq})`);
  const busy = IN_PROGRESS.exec(out);
  if (busy && internalAddress !== undefined && busy[1] === internalAddress) {
    out = out.replace(busy[0], 'this debug session has launched or attached already. End this debug session, then start a new one (or start another debug session beside it) for another program');
  }
  return out === text ? undefined : out;
}

/** Rewrites a failed response's message and error format in place; true when either changed. */
export function rewriteInClientTerms(response: DebugProtocol.Response, dlvSeq: number, clientSeq: number, internalAddress: string | undefined): boolean {
  if (response.success) return false;
  let changed = false;
  const message = response.message !== undefined ? inClientTerms(response.message, dlvSeq, clientSeq, internalAddress) : undefined;
  if (message !== undefined) {
    response.message = message;
    changed = true;
  }
  const error = (response as DebugProtocol.ErrorResponse).body?.error;
  const format = typeof error?.format === 'string' ? inClientTerms(error.format, dlvSeq, clientSeq, internalAddress) : undefined;
  if (error && format !== undefined) {
    error.format = format;
    changed = true;
  }
  return changed;
}
