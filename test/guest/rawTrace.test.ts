// The binary reader against the kernel's own text, live on the hanging runsc: one trace
// instance records the sandbox's KVM events, is paused, and is then read twice: first its
// `trace` file (the kernel prints every record; reading it consumes nothing), then every CPU's
// trace_pipe_raw (the same records, as binary pages). Each record must read the same both ways:
// thread, time, event and the text the kernel printed, and so the same guest event.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileFormat } from '../../adapter/guest/eventFormat';
import { toGuestEvent, type GuestEvent } from '../../adapter/guest/events';
import { GuestAggregate } from '../../adapter/guest/aggregate';
import { RawTraceStream } from '../../adapter/guest/rawStream';
import { pageLayoutFrom, readPage } from '../../adapter/guest/ringBuffer';
import { scanTraceLines, type TraceLine } from '../../adapter/guest/traceLine';
import { findTracefs, kvmEvents, readEventFormat, ringPageSize, TraceInstance } from '../../adapter/guest/tracefs';
import { pcMarkers, threadsOf } from '../../adapter/guest/tracer';
import { guestTraceUnavailable, startRunscHang, type RunscHang } from '../support/runscHang';
import { GVISOR_VERSION } from '../support/runsc';

const why = guestTraceUnavailable();
if (why) console.log(`skipped: ${why}`);

/** Keeps every event the aggregate is given, in order. */
class Recorder extends GuestAggregate {
  readonly seen: GuestEvent[] = [];
  override add(e: GuestEvent): void {
    this.seen.push(e);
  }
}

describe(`trace_pipe_raw read as the kernel prints it, on the hanging runsc ${GVISOR_VERSION} (amd64), live`, { skip: why ?? false }, () => {
  let hang: RunscHang;
  let textLines: TraceLine[] = [];
  let fromText: GuestEvent[] = [];
  let fromRaw: GuestEvent[] = [];
  let lost = 0;
  const pages: [cpu: number, bytes: Buffer][] = [];

  before(async () => {
    hang = await startRunscHang();
    const tracefs = findTracefs();
    const events = kvmEvents(tracefs);
    const markers = pcMarkers(tracefs, events);
    // A small buffer that the hang cannot overrun in the time recorded: nothing is lost between the two readings.
    const instance = new TraceInstance({ tracefs, events, tids: threadsOf(hang.sandboxPid), bufferKb: 8192 });
    try {
      await new Promise((r) => setTimeout(r, Number(process.env.BLUEPILL_RECORD_MS ?? 100)));
      instance.pause();
      scanTraceLines(instance.snapshotText(), (l) => textLines.push(l));
      fromText = textLines.map((l) => toGuestEvent(l, markers));
      const recorder = new Recorder();
      const stream = new RawTraceStream(events.map((e) => readEventFormat(tracefs, e)), recorder, markers, pageLayoutFrom(fs.readFileSync(path.join(tracefs, 'events', 'header_page'), 'utf8')), ringPageSize(tracefs));
      instance.readAvailable((cpu, bytes) => {
        pages.push([cpu, Buffer.from(bytes)]);
        stream.feed(cpu, bytes);
      });
      stream.flush();
      fromRaw = recorder.seen;
      lost = recorder.lost;
    } finally {
      instance.close();
    }
    if (process.env.BLUEPILL_RECORD_RAW_FIXTURE) recordFixture(process.env.BLUEPILL_RECORD_RAW_FIXTURE, tracefs, events, pages, new Set(fromRaw.map((e) => e.event)));
    console.log(`${fromText.length} records as text, ${fromRaw.length} as binary pages (${lost} lost); events: ${[...new Set(fromRaw.map((e) => e.event))].join(', ')}`);
  });

  after(() => hang?.stop());

  it('reads the same records, in the same order, as the kernel\'s text', () => {
    assert.ok(fromText.length > 100, `the hang fired events (${fromText.length})`);
    assert.equal(lost, 0, 'nothing was lost in a paused instance');
    assert.equal(fromRaw.length, fromText.length, 'one record each way');
    // The kernel's text merges CPUs by time; records of equal µs may come in another order.
    const key = (e: GuestEvent) => JSON.stringify([e.timeUs, e.tid, e.event, e.pc, e.reason, e.detail]);
    const sorted = (l: GuestEvent[]) => l.map(key).sort();
    assert.deepEqual(sorted(fromRaw), sorted(fromText));
    for (let i = 1; i < fromRaw.length; i++) assert.ok(fromRaw[i].timeUs >= fromRaw[i - 1].timeUs, 'in time order across CPUs');
  });

  it('prints each record exactly as the kernel does, every event kind of the hang', () => {
    const tracefs = findTracefs();
    const formats = new Map(kvmEvents(tracefs).map((e) => {
      const f = compileFormat(readEventFormat(tracefs, e));
      return [f.id, f] as const;
    }));
    const layout = pageLayoutFrom(fs.readFileSync(path.join(tracefs, 'events', 'header_page'), 'utf8'));
    const size = ringPageSize(tracefs);
    const ours: string[] = [];
    for (const [, bytes] of pages) {
      for (let at = 0; at < bytes.length; at += size) {
        readPage(bytes.subarray(at, at + size), {
          onRecord: (r, i, n, ns) => {
            const f = formats.get(r.readUInt16LE(i))!;
            ours.push(`${r.readInt32LE(i + 4)} ${Math.floor((ns + 500) / 1000)} ${f.name}: ${f.print(r, i, n)}`);
          },
          onLost: () => undefined,
        }, layout);
      }
    }
    const kernels = textLines.map((l) => `${l.tid} ${l.timeUs} ${l.event}: ${l.payload}`);
    const kinds = new Set(textLines.map((l) => l.event));
    assert.ok(kinds.size >= 2, `several kinds of event (${[...kinds].join(', ')})`);
    assert.deepEqual([...ours].sort(), [...kernels].sort());
  });

});

/**
 * BLUEPILL_RECORD_RAW_FIXTURE=DIR: keeps what this test read, for the benchmark and the unit tests
 * (test/fixtures/guest-trace/amd64-hang-raw was made so): each CPU's pages as read, header_page,
 * and the events' format files.
 */
function recordFixture(dir: string, tracefs: string, events: string[], pages: [number, Buffer][], seen: Set<string>): void {
  fs.mkdirSync(path.join(dir, 'formats'), { recursive: true });
  // tracefs files say they are empty (size 0): read, not copied.
  fs.writeFileSync(path.join(dir, 'header_page'), fs.readFileSync(path.join(tracefs, 'events', 'header_page')));
  for (const e of events) {
    const name = e.slice(e.indexOf('/') + 1);
    if (seen.has(name)) fs.writeFileSync(path.join(dir, 'formats', `${name}.format`), readEventFormat(tracefs, e));
  }
  const cpus = new Map<number, Buffer[]>();
  for (const [cpu, bytes] of pages) cpus.set(cpu, [...(cpus.get(cpu) ?? []), bytes]);
  for (const [cpu, list] of cpus) fs.writeFileSync(path.join(dir, `cpu${cpu}.pages`), Buffer.concat(list));
}
