// What dlv's DAP server would die of, caught before a client's request reaches it:
// dlv reads at most 4 MiB per message, and its DAP library stops the server on a
// field of the wrong JSON type. Such a request gets an error response instead, and
// the session goes on.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DAP_TYPES, REQUEST_ARGUMENTS } from './argumentTypes.generated';
import { shapeProblem } from './shapes';

/** dlv's limit on a message's content (go-dap's contentMaxLength). */
export const DLV_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Below this many characters of strings and keys a request cannot approach the limit: not measured. */
const MEASURE_FROM_CHARS = 512 * 1024;

/** Why `request` may not be sent to dlv, in words for the client; undefined when it may. */
export function requestProblem(request: DebugProtocol.Request): string | undefined {
  const bytes = sizeIfLarge(request);
  if (bytes !== undefined && bytes > DLV_MAX_MESSAGE_BYTES) {
    return `The ${named(request.command)} request is ${megabytes(bytes)} MB; dlv accepts at most 4 MiB per message and would end the session on it. It was not run: make it smaller.`;
  }
  const shape = REQUEST_ARGUMENTS[request.command];
  if (!shape) return undefined; // a command the protocol does not define: dlv answers it with an error
  const wrong = shapeProblem(request.arguments, shape, DAP_TYPES);
  if (!wrong) return undefined;
  return `The ${named(request.command)} request was not run: ${wrong}. dlv would end the session on it; fix what sends this request.`;
}

/** The request's JSON size in bytes, when its strings come near the limit; else undefined (cheap). */
function sizeIfLarge(request: DebugProtocol.Request): number | undefined {
  if (textLength(request.arguments, MEASURE_FROM_CHARS) < MEASURE_FROM_CHARS) return undefined;
  return Buffer.byteLength(JSON.stringify({ seq: Number.MAX_SAFE_INTEGER, type: 'request', command: request.command, arguments: request.arguments }));
}

/** Characters in the strings and keys of `value`, counted until `stop` is reached. */
function textLength(value: unknown, stop: number): number {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null) return 8;
  let total = 0;
  for (const [key, item] of Object.entries(value)) {
    total += key.length + textLength(item, stop - total);
    if (total >= stop) break;
  }
  return total;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** The command, quoted, cut short if a client sent a long one. */
function named(command: string): string {
  const json = JSON.stringify(command);
  return json.length > 42 ? `${json.slice(0, 40)}…"` : json;
}
