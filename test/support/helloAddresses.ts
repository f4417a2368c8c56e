// The hello fixture started with -print-addresses (where its code, constants, globals, a heap
// object and a stack variable are), and readelf -S read independently of bluepill-lens's ELF parser.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** readelf -S, read independently of the parser under test: name → [start, end). */
export function readelfSections(binary: string): { name: string; start: bigint; end: bigint }[] {
  return execFileSync('readelf', ['-SW', binary], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]{16})\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*A\S*)\s/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && BigInt(`0x${m[2]}`) !== 0n)
    .map((m) => ({ name: m[1], start: BigInt(`0x${m[2]}`), end: BigInt(`0x${m[2]}`) + BigInt(`0x${m[3]}`) }));
}

export function parseAddressLine(text: string): Record<string, bigint> {
  const line = /addresses (.*)/.exec(text)![1];
  return Object.fromEntries(line.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, BigInt(v)]));
}


/** Starts hello -forever -print-addresses and returns it with what it printed (its stderr up to "ready"). */
export function startHelloWithAddresses(binary: string): Promise<{ child: ChildProcess; printed: Record<string, bigint> }> {
  const child = spawn(binary, ['-forever', '-print-addresses'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hello did not get ready in 20 s; it printed: ${seen}`)), 20000);
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/ready \d+/.test(seen)) {
        clearTimeout(timer);
        resolve({ child, printed: parseAddressLine(seen) });
      }
    });
    child.once('exit', (code) => reject(new Error(`hello exited (${code}) before it was ready: ${seen}`)));
  });
}

