// /proc/PID/maps and /proc/PID/task/TID/syscall, parsed (pure: text in, records out).
// Formats: proc(5) ("address perms offset dev inode pathname"; "nr args... sp pc" for syscall).

export interface Mapping {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  /** e.g. "r-xp": read, write, execute, private (p) or shared (s). */
  perms: string;
  offset: bigint;
  inode: number;
  /** The file, a pseudo-path ([stack], [vdso], anon_inode:..., /memfd:...), or "" (anonymous). */
  path: string;
}

export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+([0-9a-f]+)\s+\S+\s+(\d+)\s*(.*)$/i.exec(line.trim());
    if (!m) continue;
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3], offset: BigInt(`0x${m[4]}`), inode: Number(m[5]), path: m[6].trim() });
  }
  return out;
}

export function mappingAt(maps: Mapping[], address: bigint): Mapping | undefined {
  return maps.find((m) => m.start <= address && address < m.end);
}

/** Anonymous memory (no file, no pseudo-path), which the heap arenas and gVisor's fill are. */
export function isAnonymous(m: Mapping): boolean {
  return m.path === '' && m.inode === 0;
}

/** The run of adjacent anonymous private mappings around `m` (one reservation may be split by mprotect). */
export function anonymousRun(maps: Mapping[], m: Mapping): { start: bigint; end: bigint } {
  const sorted = [...maps].sort((a, b) => (a.start < b.start ? -1 : 1));
  let i = sorted.indexOf(m);
  let j = i;
  const joins = (x: Mapping) => isAnonymous(x) && x.perms.endsWith('p');
  while (i > 0 && joins(sorted[i - 1]) && sorted[i - 1].end === sorted[i].start) i--;
  while (j < sorted.length - 1 && joins(sorted[j + 1]) && sorted[j + 1].start === sorted[j].end) j++;
  return { start: sorted[i].start, end: sorted[j].end };
}

/**
 * A thread's stack pointer from /proc/PID/task/TID/syscall: "nr a1..a6 sp pc" in a system call,
 * "-1 sp pc" blocked outside one, "running" (no registers to show).
 */
export function stackPointerOf(syscallText: string): bigint | undefined {
  const f = syscallText.trim().split(/\s+/);
  if (f.length === 9) return BigInt(f[7]);
  if (f.length === 3 && f[0] === '-1') return BigInt(f[1]);
  return undefined;
}

export function sizeText(bytes: bigint): string {
  const units: [string, bigint][] = [['TiB', 1n << 40n], ['GiB', 1n << 30n], ['MiB', 1n << 20n], ['KiB', 1n << 10n]];
  for (const [u, n] of units) if (bytes >= n) return `${(Number(bytes) / Number(n)).toFixed(bytes % n === 0n ? 0 : 1)} ${u}`;
  return `${bytes} bytes`;
}
