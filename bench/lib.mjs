// Small timing helpers for the benchmarks: whole-process runs measured with Node's
// own clock, warm-up first, then median/min/max of N runs. Peak RSS comes from GNU
// time (`/usr/bin/time -f %M`) around the same command.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

export function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), min: sorted[0], max: sorted[sorted.length - 1], p99: at(0.99), n: sorted.length };
}

/** Runs a shell command `runs` times after `warmup` runs; returns wall-clock stats in ms. */
export function timeCommand(command, { runs = 5, warmup = 1 } = {}) {
  const samples = [];
  for (let i = 0; i < warmup + runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${command}`);
    if (i >= warmup) samples.push(ms);
  }
  return stats(samples);
}

/** Peak resident set size of a command, in MB. */
export function peakRssMb(command) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'bash', '-c', command], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const kb = Number(r.stderr.trim().split('\n').pop());
  if (!Number.isFinite(kb)) throw new Error(`could not read peak RSS: ${r.stderr}`);
  return kb / 1024;
}

export function machine() {
  const version = (cmd) => {
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    return (r.stdout || r.stderr).split('\n')[0].trim();
  };
  return {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    go: version('go version'),
    sed: version('sed --version'),
    dlv: version(`${process.cwd()}/tools/bin/dlv version | sed -n 2p`),
  };
}

export function fileMb(file) {
  return fs.statSync(file).size / 1e6;
}
