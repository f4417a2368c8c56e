// Hover and explain on large inputs: building the listing index of a 50 MB listing,
// a hover on it, and explain from a binary alone, each against what a user does
// without the extension in the same run (grep on the listing, go tool objdump -s).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { stats, timeCommand } from './lib.mjs';

const require = createRequire(import.meta.url);

/** The first 50 MB (whole lines) of the real listing that annotate.mjs built. */
export function listing50mb(tmp) {
  const out = path.join(tmp, 'listing-50mb.objdump');
  if (fs.existsSync(out)) return out;
  const one = fs.readFileSync(path.join(tmp, 'dlv-arm64.objdump'));
  fs.writeFileSync(out, one.subarray(0, one.lastIndexOf(10, 50e6) + 1));
  return out;
}

async function timeAsync(fn, runs = 5) {
  await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(samples);
}

export async function benchExplain(tmp, root) {
  const { ListingIndex } = require(path.join(root, 'out/adapter/explain/listingIndex.js'));
  const { addressMarkdown } = require(path.join(root, 'out/adapter/explain/addressInfo.js'));
  const { readElfFunctions } = require(path.join(root, 'out/adapter/elf/symbols.js'));
  const file = listing50mb(tmp);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const source = { lineCount: lines.length, lineAt: (n) => lines[n] };
  const index = await ListingIndex.build(source);
  const build = await timeAsync(() => ListingIndex.build(source));
  // Hovers over addresses spread through the listing.
  const blocks = index.blocks.filter((b) => b.firstAddress !== undefined);
  const targets = Array.from({ length: 1000 }, (_, i) => blocks[Math.floor((i * blocks.length) / 1000)].firstAddress + 4);
  const hoverSamples = [];
  for (const a of targets) {
    const t = process.hrtime.bigint();
    addressMarkdown(index, a);
    hoverSamples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const symbol = blocks[Math.floor(blocks.length / 2)].name;
  const binarySymbol = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillGuestExit';
  const grep = timeCommand(`grep -n -F 'TEXT ${symbol}(SB)' '${file}' > /dev/null`);

  // A large real Go binary: gVisor's runsc for arm64 (~100 MB), built by tools/build-runsc.sh.
  const binary = execFileSync('bash', [path.join(root, 'tools', 'build-runsc.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n')[1];
  const symbolsLoad = await timeAsync(() => readElfFunctions(binary));
  const cli = path.join(root, 'dist', 'cli.js');
  const target = readElfFunctions(binary).functions.find((f) => f.name === binarySymbol);
  const address = `0x${(target.address + 8n).toString(16)}`;
  const explainBinary = timeCommand(`node '${cli}' explain --binary '${binary}' ${address} > /dev/null`);
  const objdumpSymbol = timeCommand(`go tool objdump -s '^gvisor\\.dev/gvisor/pkg/sentry/platform/kvm\\.bluepillGuestExit$' '${binary}' > /dev/null`);
  return {
    listingMb: Math.round(fs.statSync(file).size / 1e6),
    blocks: index.blocks.length,
    indexBuild: build,
    hover: stats(hoverSamples),
    grepForSymbol: grep,
    binary: path.basename(path.dirname(path.dirname(binary))) + '/' + path.basename(path.dirname(binary)) + '/runsc',
    binaryMb: Math.round(fs.statSync(binary).size / 1e6),
    symbolsLoad,
    explainBinaryCli: explainBinary,
    goToolObjdumpSymbol: objdumpSymbol,
  };
}
