// Inside the guest (issue 14): parsing the host kernel's KVM trace text of the real amd64 hang
// (recorded in test/fixtures/guest-trace/), against a plain line split of the same bytes in the
// same run, rounds interleaved; and, live (root, /dev/kvm, the hang), a 60 s trace's peak RSS.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { stats } from './lib.mjs';

const require = createRequire(import.meta.url);
const PIECE = 256 * 1024; // what one read of trace_pipe gives, about

function recordedHang(root, lines) {
  const dir = path.join(root, 'test', 'fixtures', 'guest-trace');
  const text = fs.readFileSync(path.join(dir, 'amd64-hang-steady.txt'));
  const copies = Math.ceil(lines / 2000);
  return { bytes: Buffer.concat(Array(copies).fill(text)), lines: copies * 2000, dir };
}

/** Events per second of: a line split (baseline), parsing into events, parsing + aggregating. */
export function benchGuestParse(root, { lines = 300_000, rounds = 9 } = {}) {
  const out = path.join(root, 'out', 'adapter', 'guest');
  const { scanTraceLines } = require(path.join(out, 'traceLine.js'));
  const { toGuestEvent, pcMarkerFromFormat } = require(path.join(out, 'events.js'));
  const { TraceStream } = require(path.join(out, 'stream.js'));
  const { GuestAggregate } = require(path.join(out, 'aggregate.js'));
  const input = recordedHang(root, lines);
  const formats = path.join(input.dir, 'amd64-6.18-formats');
  const markers = {};
  for (const f of fs.readdirSync(formats)) {
    const m = pcMarkerFromFormat(fs.readFileSync(path.join(formats, f), 'utf8'));
    if (m !== undefined) markers[f.replace(/\.format$/, '')] = m;
  }
  const pieces = [];
  for (let i = 0; i < input.bytes.length; i += PIECE) pieces.push(input.bytes.subarray(i, i + PIECE));
  const perSecond = (fn) => {
    const t = process.hrtime.bigint();
    fn();
    return input.lines / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const split = () => {
    let tail = '';
    for (const p of pieces) {
      const parts = (tail + p.toString('latin1')).split('\n');
      tail = parts.pop();
    }
  };
  const parse = () => {
    let tail = Buffer.alloc(0);
    for (const p of pieces) {
      const text = Buffer.concat([tail, p]).toString('latin1');
      tail = Buffer.from(text.slice(scanTraceLines(text, (l) => toGuestEvent(l, markers))), 'latin1');
    }
  };
  const aggregate = () => {
    const s = new TraceStream(new GuestAggregate(), markers);
    for (const p of pieces) s.feed(p);
  };
  split(), parse(), aggregate(); // warm-up
  const r = { split: [], parse: [], aggregate: [], ratio: [] };
  for (let i = 0; i < rounds; i++) {
    const b = perSecond(split);
    const p = perSecond(parse);
    const a = perSecond(aggregate);
    r.split.push(b);
    r.parse.push(p);
    r.aggregate.push(a);
    r.ratio.push(p / b);
  }
  const ratio = stats(r.ratio);
  return { lines: input.lines, mb: input.bytes.length / 1e6, rounds, split: stats(r.split), parse: stats(r.parse), aggregate: stats(r.aggregate), ratio: { median: ratio.median, low: ratio.min, high: ratio.max } };
}

/**
 * Events per second of reading the ring buffer's binary pages as the tracer does (trace_pipe_raw:
 * each record printed with its event's format, read into a guest event, aggregated), against
 * walking the same records without reading them (the floor of touching each one), rounds
 * interleaved. The pages were recorded from the live amd64 hang (test/guest/rawTrace.test.ts).
 */
export function benchGuestRaw(root, { copies = 40, rounds = 9 } = {}) {
  const out = path.join(root, 'out', 'adapter', 'guest');
  const { RawTraceStream } = require(path.join(out, 'rawStream.js'));
  const { GuestAggregate } = require(path.join(out, 'aggregate.js'));
  const { pageLayoutFrom, readPage } = require(path.join(out, 'ringBuffer.js'));
  const { pcMarkerFromFormat } = require(path.join(out, 'events.js'));
  const dir = path.join(root, 'test', 'fixtures', 'guest-trace', 'amd64-hang-raw');
  const formats = fs.readdirSync(path.join(dir, 'formats')).map((f) => fs.readFileSync(path.join(dir, 'formats', f), 'utf8'));
  const markers = {};
  for (const f of formats) {
    const m = pcMarkerFromFormat(f);
    if (m !== undefined) markers[/^name: (\S+)$/m.exec(f)[1]] = m;
  }
  const layout = pageLayoutFrom(fs.readFileSync(path.join(dir, 'header_page'), 'utf8'));
  const recorded = Buffer.concat(fs.readdirSync(dir).filter((f) => f.endsWith('.pages')).map((f) => fs.readFileSync(path.join(dir, f))));
  const bytes = Buffer.concat(Array(copies).fill(recorded));
  let records = 0;
  const walkSink = { onRecord: () => records++, onLost: () => undefined };
  const walk = () => {
    for (let at = 0; at < bytes.length; at += 4096) readPage(bytes.subarray(at, at + 4096), walkSink, layout);
  };
  walk();
  const events = records;
  const perSecond = (fn) => {
    const t = process.hrtime.bigint();
    fn();
    return events / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const decode = () => {
    const s = new RawTraceStream(formats, new GuestAggregate(), markers, layout);
    // As the tracer reads: a quarter-megabyte read, then a flush into the aggregate.
    for (let at = 0; at < bytes.length; at += 256 << 10) {
      s.feed(0, bytes.subarray(at, at + (256 << 10)));
      s.flush();
    }
    if (s.aggregate.total !== events) throw new Error(`decoded ${s.aggregate.total} of ${events} records`);
  };
  decode(); // warm-up
  const r = { walk: [], decode: [], ratio: [] };
  for (let i = 0; i < rounds; i++) {
    const w = perSecond(walk);
    const d = perSecond(decode);
    r.walk.push(w);
    r.decode.push(d);
    r.ratio.push(d / w);
  }
  const ratio = stats(r.ratio);
  return { events, mb: bytes.length / 1e6, rounds, walk: stats(r.walk), decode: stats(r.decode), ratio: { median: ratio.median, low: ratio.min, high: ratio.max } };
}

/** Peak RSS (VmHWM of the CLI's own process) over a `seconds` trace of the live hang; undefined where it cannot run. */
export async function benchGuestFlood(root, { seconds = 60 } = {}) {
  const why = !fs.existsSync('/dev/kvm') ? 'no /dev/kvm' : process.getuid() !== 0 ? 'not root' : !fs.existsSync('/sys/kernel/tracing/instances') ? 'tracefs not mounted' : undefined;
  if (why) return { skipped: why };
  const version = /GVISOR_VERSION:-(v[^}]+)}/.exec(fs.readFileSync(path.join(root, 'tools', 'build-runsc.sh'), 'utf8'))[1];
  const runscBin = path.join(root, '.cache', 'runsc', version, 'amd64', 'runsc');
  if (!fs.existsSync(runscBin)) return { skipped: `no ${runscBin}: run tools/build-runsc.sh` };
  const runscRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'runsc-root-'));
  const runsc = spawn(runscBin, [`--root=${runscRoot}`, '--platform=kvm', '--network=none', 'do', '/bin/true'], { stdio: 'ignore', detached: true });
  const descendants = (pid) => {
    let out = [pid];
    try {
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out = out.concat(descendants(Number(c)));
    } catch {}
    return out;
  };
  try {
    let sandbox;
    for (let i = 0; i < 300 && !sandbox; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sandbox = descendants(runsc.pid).find((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('runsc-sandbox');
        } catch {
          return false;
        }
      });
    }
    if (!sandbox) return { skipped: 'the sandbox did not start' };
    await new Promise((r) => setTimeout(r, 2000));
    // As the installed command runs: with the node flags of its #! line.
    const cliFile = path.join(root, 'out', 'adapter', 'cli.js');
    const nodeFlags = (/^#!.*\bnode\b(.*)$/m.exec(fs.readFileSync(cliFile, 'utf8').split('\n')[0])?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
    const cli = spawn(process.execPath, [...nodeFlags, cliFile, 'guest', '--pid', String(sandbox), '--seconds', String(seconds), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let json = '';
    cli.stdout.on('data', (d) => (json += d));
    let peakKb = 0;
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${cli.pid}/status`, 'utf8'));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {}
    }, 200);
    await new Promise((r) => cli.once('exit', r));
    clearInterval(sample);
    const s = JSON.parse(json);
    return { seconds: s.seconds, events: s.events, lost: s.lost, eventsPerSecond: Math.round(s.events / s.seconds), peakRssMb: peakKb / 1024, loops: s.loops.length, findings: s.findings.length };
  } finally {
    for (const p of descendants(runsc.pid).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    fs.rmSync(runscRoot, { recursive: true, force: true });
  }
}
