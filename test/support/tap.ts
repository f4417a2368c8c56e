// A recording relay between the proxy and dlv: passes bytes through untouched and
// keeps every DAP message dlv sent, to compare with what reached the client.
import * as net from 'node:net';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FrameReader } from '../../adapter/dap/framing';

export interface Tap {
  port: number;
  fromDlv: DebugProtocol.ProtocolMessage[];
  /** Requests the proxy sent to dlv: the client's, forwarded, and the proxy's own. */
  toDlv: DebugProtocol.Request[];
  close(): void;
}

/** Splits a byte stream into DAP messages, with the proxy's own strict reader. */
function frames(onMessage: (m: DebugProtocol.ProtocolMessage) => void): (chunk: Buffer) => void {
  const reader = new FrameReader();
  return (chunk) => reader.push(chunk, (json) => onMessage(JSON.parse(json)));
}

export function tapBetween(dlvPort: number): Promise<Tap> {
  const fromDlv: DebugProtocol.ProtocolMessage[] = [];
  const toDlv: DebugProtocol.Request[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port: dlvPort });
    sockets.push(inbound, outbound);
    const recordRequest = frames((m) => toDlv.push(m as DebugProtocol.Request));
    const recordReply = frames((m) => fromDlv.push(m));
    inbound.on('data', (chunk: Buffer) => {
      outbound.write(chunk);
      recordRequest(chunk);
    });
    outbound.on('data', (chunk: Buffer) => {
      inbound.write(chunk);
      recordReply(chunk);
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    inbound.on('error', () => undefined);
    outbound.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        fromDlv,
        toDlv,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    });
  });
}

/**
 * What dlv sent for the client: drops the responses to the proxy's own requests, and
 * renumbers request_seq to the client's. The client's requests reach dlv in order,
 * with the same command and arguments, mixed with the proxy's own.
 */
export function dlvMessagesForClient(tap: Tap, clientRequests: DebugProtocol.Request[]): DebugProtocol.ProtocolMessage[] {
  const clientSeqOf = new Map<number, number>();
  let next = 0;
  for (const request of tap.toDlv) {
    const mine = clientRequests[next];
    if (mine && request.command === mine.command && JSON.stringify(request.arguments ?? {}) === JSON.stringify(mine.arguments ?? {})) {
      clientSeqOf.set(request.seq, mine.seq);
      next++;
    }
  }
  assert.equal(next, clientRequests.length, 'every client request reached dlv, in order and unchanged');
  return tap.fromDlv
    .filter((m) => m.type !== 'response' || clientSeqOf.has((m as DebugProtocol.Response).request_seq))
    .map((m) => (m.type === 'response' ? { ...m, request_seq: clientSeqOf.get((m as DebugProtocol.Response).request_seq)! } : m));
}

