// Annotate throughput: `bluepill-lens annotate` against GNU sed doing one
// substitution, on the same >= 200 MB of real `go tool objdump` text (a listing
// of dlv built for arm64, repeated), in the same run.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileMb, peakRssMb, timeCommand } from './lib.mjs';

const MIN_BYTES = 200e6;

/** Builds (once) the listing of a real arm64 Go program and repeats it past 200 MB. */
export function prepareListing(tmp) {
  const big = path.join(tmp, 'listing-200mb.objdump');
  if (fs.existsSync(big) && fs.statSync(big).size >= MIN_BYTES) return big;
  const gobin = path.join(tmp, 'gobin');
  const binary = path.join(gobin, 'linux_arm64', 'dlv');
  if (!fs.existsSync(binary)) {
    execFileSync('go', ['install', 'github.com/go-delve/delve/cmd/dlv@v1.27.2'], { env: { ...process.env, GOARCH: 'arm64', GOBIN: '', GOPATH: path.join(tmp, 'gopath') }, stdio: 'inherit' });
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    fs.copyFileSync(path.join(tmp, 'gopath', 'bin', 'linux_arm64', 'dlv'), binary);
  }
  const one = path.join(tmp, 'dlv-arm64.objdump');
  if (!fs.existsSync(one)) fs.writeFileSync(one, execFileSync('go', ['tool', 'objdump', binary], { maxBuffer: 1 << 30 }));
  const fd = fs.openSync(big, 'w');
  const chunk = fs.readFileSync(one);
  for (let written = 0; written < MIN_BYTES; written += chunk.length) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return big;
}

export function benchAnnotate(tmp, cli) {
  const listing = prepareListing(tmp);
  const mb = fileMb(listing);
  const sed = timeCommand(`sed 's/MRS \\$18052/MRS TPIDR_EL1/' '${listing}' > /dev/null`);
  const annotate = timeCommand(`node '${cli}' annotate '${listing}' > /dev/null`);
  return {
    inputMb: Math.round(mb),
    sed: { ...sed, mbPerS: mb / (sed.median / 1000) },
    annotate: { ...annotate, mbPerS: mb / (annotate.median / 1000), peakRssMb: peakRssMb(`node '${cli}' annotate '${listing}' > /dev/null`) },
    ratio: sed.median / annotate.median,
  };
}
