// Instructions user space may not run, and the signal Linux turns each into: measured by
// running each one (test/fixtures/traps, natively on amd64 and under qemu-aarch64 for
// arm64: test/adapter/hostTraps.test.ts), so Explain This PC never calls them "ordinary
// host code". CLI (the old amd64 bluepill) and ERET are told apart in explain.ts.

export interface HostTrap {
  /** As the fixture names it. */
  name: string;
  signal: 'SIGTRAP' | 'SIGILL' | 'SIGSEGV';
}

/** amd64, by the bytes the instruction starts with (memory order, hex). */
const AMD64: ReadonlyArray<[prefix: string, trap: HostTrap]> = [
  ['cc', { name: 'INT3', signal: 'SIGTRAP' }],
  ['0f0b', { name: 'UD2', signal: 'SIGILL' }],
  ['f4', { name: 'HLT', signal: 'SIGSEGV' }],
  ['fb', { name: 'STI', signal: 'SIGSEGV' }],
];

/** arm64, by the instruction word's fixed bits (mask, value). */
const ARM64: ReadonlyArray<[mask: number, value: number, trap: HostTrap]> = [
  [0xffe0001f, 0xd4200000, { name: 'BRK', signal: 'SIGTRAP' }],
  [0xffff0000, 0x00000000, { name: 'UDF', signal: 'SIGILL' }],
  [0xffe0001f, 0xd4000002, { name: 'HVC', signal: 'SIGILL' }],
  [0xffe0001f, 0xd4000003, { name: 'SMC', signal: 'SIGILL' }],
  [0xffe0001f, 0xd4400000, { name: 'HLT', signal: 'SIGILL' }],
];

/** The trap an instruction is, from its bytes (memory order, hex), if it is one of the measured ones. */
export function hostTrapOf(arch: 'arm64' | 'amd64', bytes: string | undefined): HostTrap | undefined {
  if (!bytes) return undefined;
  if (arch === 'amd64') return AMD64.find(([prefix]) => bytes.startsWith(prefix))?.[1];
  if (!/^[0-9a-f]{8}$/.test(bytes)) return undefined;
  const word = Buffer.from(bytes, 'hex').readUInt32LE(0);
  return ARM64.find(([mask, value]) => (word & mask) >>> 0 === value)?.[2];
}

/** Every measured trap of an architecture: what the test runs. */
export function hostTraps(arch: 'arm64' | 'amd64'): HostTrap[] {
  return arch === 'amd64' ? AMD64.map(([, t]) => t) : ARM64.map(([, , t]) => t);
}
