// The TCP addresses a process really listens on, read from /proc: its socket inodes
// (/proc/PID/fd) matched against the LISTEN rows of /proc/PID/net/tcp and tcp6. Used to
// hold a spawned dlv to loopback whatever flags reached it.
import * as fs from 'node:fs';

export interface ListeningAddress {
  /** Dotted IPv4, or IPv6 as 8 hex groups. */
  ip: string;
  port: number;
  loopback: boolean;
}

const TCP_LISTEN = '0A';

/** Where `pid` listens, or undefined when its fds cannot be read (another user's process). */
export function listeningAddresses(pid: number): ListeningAddress[] | undefined {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const found: ListeningAddress[] = [];
  for (const table of ['tcp', 'tcp6'] as const) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== TCP_LISTEN || !inodes.has(f[9])) continue;
      const [hex, port] = f[1].split(':');
      found.push({ ...parseAddress(hex), port: parseInt(port, 16) });
    }
  }
  return found;
}

/** /proc writes addresses as 32-bit words in host (little-endian) order. */
export function parseAddress(hex: string): { ip: string; loopback: boolean } {
  const bytes = Buffer.from(hex, 'hex');
  for (let i = 0; i + 4 <= bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  if (bytes.length === 4) return { ip: bytes.join('.'), loopback: bytes[0] === 127 };
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  const v4Mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  const isLocalhost = bytes.subarray(0, 15).every((b) => b === 0) && bytes[15] === 1;
  return { ip: groups.join(':'), loopback: isLocalhost || (v4Mapped && bytes[12] === 127) };
}
