// The guest timeline (adapter/guest/timeline.ts) on a real recorded trace: the arm64 board's
// runsc, read in two halves as a watch would read it second by second. Each interval's
// figures must be the difference between the two cumulative summaries, and the drawing must
// have a lane per vCPU thread and the state view's trips on the same axis.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pcMarkerFromFormat, type PcMarkers } from '../../adapter/guest/events';
import { TraceStream } from '../../adapter/guest/stream';
import { GuestAggregate } from '../../adapter/guest/aggregate';
import { buildSummary } from '../../adapter/guest/report';
import { SymbolTableNamer } from '../../adapter/guest/symbolize';
import { GuestTimeline, timelineSvg } from '../../adapter/guest/timeline';
import type { Trip } from '../../adapter/bluepill/tripLog';
import { repoRoot } from '../support/paths';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'guest-trace');

function arm64Markers(): PcMarkers {
  const dir = path.join(FIXTURES, 'arm64-6.1-formats');
  const markers: PcMarkers = {};
  for (const file of fs.readdirSync(dir)) {
    const marker = pcMarkerFromFormat(fs.readFileSync(path.join(dir, file), 'utf8'));
    if (marker !== undefined) markers[file.replace(/\.format$/, '')] = marker;
  }
  return markers;
}

describe('guest timeline', () => {
  const lines = fs.readFileSync(path.join(FIXTURES, 'arm64-runsc-sleep-loop.txt'), 'utf8').trim().split('\n');
  const half = Math.floor(lines.length / 2);
  const stream = new TraceStream(new GuestAggregate(), arm64Markers());
  // runsc's symbols as recorded with the trace ("address size name", go tool nm -size).
  const symbols = fs.readFileSync(path.join(FIXTURES, 'arm64-runsc-symbols.txt'), 'utf8').trim().split('\n').map((l) => l.split(' '))
    .map(([a, size, ...name]) => ({ address: BigInt(`0x${a}`), size: Number(size), name: name.join(' ') }))
    .sort((x, y) => (x.address < y.address ? -1 : 1));
  const table = new SymbolTableNamer('arm64', symbols);
  const namer = { name: (pc: string) => table.name(pc), describe: () => undefined };
  const options = { pid: 1, binary: 'runsc', arch: 'arm64' as const };
  stream.feed(lines.slice(0, half).join('\n') + '\n');
  const first = buildSummary(stream.aggregate, namer, options);
  stream.feed(lines.slice(half).join('\n') + '\n');
  const second = buildSummary(stream.aggregate, namer, options);
  const timeline = new GuestTimeline();
  timeline.add(first, 1_000_000);
  timeline.add(second, 1_001_000);

  it('an interval holds what happened between two summaries, per vCPU thread', () => {
    const [sample] = timeline.samples();
    assert.equal(timeline.samples().length, 1, 'the first summary is only the baseline');
    assert.equal(sample.intervalMs, 1000);
    for (const t of second.threads) {
      const before = first.threads.find((f) => f.tid === t.tid);
      assert.equal(sample.lanes[t.tid].events, t.events - (before?.events ?? 0), `events of thread ${t.tid}`);
      for (const { reason, count } of t.exitReasons) {
        const was = before?.exitReasons.find((e) => e.reason === reason)?.count ?? 0;
        assert.equal(sample.lanes[t.tid].exits[reason] ?? 0, count - was, `${reason} exits of thread ${t.tid}`);
      }
      assert.ok(sample.lanes[t.tid].guestUs >= 0 && sample.lanes[t.tid].guestUs <= 1_000_000);
    }
    const total = Object.values(sample.lanes).reduce((n, l) => n + l.events, 0);
    assert.equal(total, second.events - first.events);
    assert.ok(total > 0, 'the second half of the recording has events');
  });

  it('draws a lane per vCPU thread, exits by reason, and the trips on the same axis', () => {
    const trips: Trip[] = [{ number: 1, threadId: 1, started: 1_000_200, guestMs: 3, complete: true, stops: [
      { time: 1_000_200, phase: 'trapped', pc: '0x1', symbol: 'kvm.sighandler' },
      { time: 1_000_400, phase: 'in-guest', pc: '0x2', symbol: 'kvm.bluepillHandler' },
    ] }];
    const svg = timelineSvg(timeline.samples(), trips, { width: 800, now: 1_001_000, spanMs: 10_000 });
    for (const t of second.threads) assert.match(svg, new RegExp(`vCPU thread ${t.tid}<`));
    assert.match(svg, /trip #1: in-guest at 0x2 kvm\.bluepillHandler/);
    const reason = second.threads.flatMap((t) => t.exitReasons)[0]?.reason;
    if (reason) assert.ok(svg.includes(reason), `the exit reason ${reason} is named`);
    assert.doesNotMatch(svg, /NaN|undefined/);
  });

  it('keeps a bounded number of intervals', () => {
    const small = new GuestTimeline(3);
    for (let i = 0; i < 10; i++) small.add(second, i * 1000);
    assert.equal(small.samples().length, 3);
  });
});
