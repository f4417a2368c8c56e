// A DAP trace for bug reports: one JSON line per message the proxy receives or
// sends, on either side, with its direction and time. Launch configurations carry
// `env` (tokens, keys...), so every `env` object is replaced by a count before
// anything reaches the disk; the file is created readable by its owner only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';

type Message = DebugProtocol.ProtocolMessage;

/** client→proxy, proxy→client, proxy→dlv, dlv→proxy. */
export type Direction = 'client→proxy' | 'proxy→client' | 'proxy→dlv' | 'dlv→proxy';
export type MessageObserver = (direction: Direction, message: Message) => void;

/** Keys whose values are never written: environment variables, in any message. */
const SECRET_KEYS = new Set(['env', 'environment']);

export function redact(message: Message): string {
  return JSON.stringify(message, (key, value) => {
    if (!SECRET_KEYS.has(key) || value === null || typeof value !== 'object') return value;
    return `[redacted: ${Object.keys(value).length} variables]`;
  });
}

export class TraceFile {
  private fd: number | undefined;
  private failed = false;

  /** Throws, with what to do, when the file cannot be created. */
  constructor(readonly file: string, private readonly onError: (message: string) => void = () => undefined) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(file, 'a', 0o600);
    } catch (e) {
      throw new Error(`Cannot write the DAP trace to ${file}: ${(e as Error).message}. Turn the setting bluepill.trace off, or free the disk or fix the folder's permissions.`);
    }
  }

  /** The observer to give the proxy. Writes synchronously, so a crash keeps every line before it. */
  readonly observe: MessageObserver = (direction, message) => {
    if (this.fd === undefined) return;
    const line = `{"time":"${new Date().toISOString()}","direction":"${direction}","message":${redact(message)}}\n`;
    try {
      fs.writeSync(this.fd, line);
    } catch (e) {
      if (!this.failed) this.onError(`The DAP trace ${this.file} stopped: ${(e as Error).message}.`);
      this.failed = true;
      this.close();
    }
  };

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Watches one side of the proxy: messages this endpoint sends, and messages it receives. */
export function observeEndpoint(
  endpoint: { onDidSendMessage(l: (m: object) => void): unknown; onDidReceiveMessage(l: (m: Message) => void): unknown },
  side: 'client' | 'dlv',
  observe: MessageObserver | undefined,
): void {
  if (!observe) return;
  endpoint.onDidSendMessage((m) => observe(side === 'client' ? 'proxy→client' : 'proxy→dlv', m as Message));
  endpoint.onDidReceiveMessage((m) => observe(side === 'client' ? 'client→proxy' : 'dlv→proxy', m));
}
