// One sandbox's guest, traced: its threads' KVM events streamed from a private trace instance
// into the aggregate, named by the sandbox's runsc binary. Used by the CLI and startGuestWatch.
import * as fs from 'node:fs';
import { GuestAggregate } from './aggregate';
import { DEFAULT_PC_MARKERS, pcMarkerFromFormat, type PcMarkers } from './events';
import { buildSummary, lastGuestPc } from './report';
import { RawTraceStream } from './rawStream';
import { pageLayoutFrom } from './ringBuffer';
import type { GuestSummary, LastGuestPc } from './summary';
import { GuestSymbols } from './symbolize';
import { findTracefs, GuestTraceError, kvmEvents, readEventFormat, ringPageSize, TraceInstance } from './tracefs';
import * as path from 'node:path';

/** Read per poll by default: a flood's 50 ms at most, so each CPU's buffer stays a few MB. */
const DEFAULT_POLL_BYTES = 4 << 20;

export interface GuestTracerOptions {
  pid: number;
  /** runsc's binary; default /proc/PID/exe. */
  binary?: string;
}

/** The thread ids of a process (/proc/PID/task): the sandbox's vCPU threads are among them. */
export function threadsOf(pid: number, procRoot = '/proc'): number[] {
  try {
    return fs
      .readdirSync(`${procRoot}/${pid}/task`)
      .map(Number)
      .filter((n) => Number.isInteger(n));
  } catch {
    return [];
  }
}

/** Loaded KVM modules (kvm, kvm_intel, kvm_amd, kvm_pvm…): which KVM runs the guest. */
export function kvmModules(sysModule = '/sys/module'): string[] {
  try {
    return fs
      .readdirSync(sysModule)
      .filter((m) => m === 'kvm' || m.startsWith('kvm_'))
      .sort();
  } catch {
    return [];
  }
}

/** Where each enabled event prints the guest PC, from its format file (the defaults if unreadable). */
export function pcMarkers(tracefs: string, events: string[]): PcMarkers {
  const markers: PcMarkers = {};
  for (const e of events) {
    const name = e.slice(e.indexOf('/') + 1);
    let marker: string | undefined;
    try {
      marker = pcMarkerFromFormat(readEventFormat(tracefs, e));
    } catch {
      marker = DEFAULT_PC_MARKERS[name];
    }
    if (marker !== undefined) markers[name] = marker;
  }
  return markers;
}

function binaryOf(pid: number, given: string | undefined): string {
  if (given) {
    if (!fs.existsSync(given)) throw new GuestTraceError(`cannot read the binary "${given}": no such file. Give runsc's path with --binary PATH.`);
    return given;
  }
  // /proc/PID/exe reads the running file even if it was replaced or deleted since.
  const exe = `/proc/${pid}/exe`;
  try {
    fs.accessSync(exe, fs.constants.R_OK);
    return exe;
  } catch {
    throw new GuestTraceError(`cannot read ${exe} (the process's binary): run as root, or give runsc's path with --binary PATH.`);
  }
}

export class GuestTracer {
  readonly binary: string;
  readonly symbols: GuestSymbols;
  readonly events: string[];
  readonly stream: RawTraceStream;
  private readonly instance: TraceInstance;
  private readonly tids: Set<number>;
  private readonly modules = kvmModules();

  constructor(readonly options: GuestTracerOptions) {
    const { pid } = options;
    if (!Number.isInteger(pid) || pid <= 0 || !fs.existsSync(`/proc/${pid}`)) {
      throw new GuestTraceError(`no process ${pid}: give the pid of the runsc-sandbox process (bluepill-lens processes lists the sandboxes first).`);
    }
    const tracefs = findTracefs();
    this.binary = binaryOf(pid, options.binary);
    try {
      this.symbols = new GuestSymbols(this.binary);
    } catch (e) {
      throw new GuestTraceError(`${(e as Error).message}`);
    }
    this.events = kvmEvents(tracefs);
    this.stream = new RawTraceStream(
      this.events.map((e) => readEventFormat(tracefs, e)),
      new GuestAggregate(),
      pcMarkers(tracefs, this.events),
      pageLayoutFrom(fs.readFileSync(path.join(tracefs, 'events', 'header_page'), 'utf8')),
      ringPageSize(tracefs),
    );
    this.tids = new Set(threadsOf(pid));
    this.instance = new TraceInstance({ tracefs, events: this.events, tids: [...this.tids] });
  }

  /**
   * Reads what the kernel has for us now, up to `maxBytes` (a watch inside a host process keeps
   * each turn short); also starts following threads made since. Returns bytes read.
   */
  poll(maxBytes?: number): number {
    const fresh = threadsOf(this.options.pid).filter((t) => !this.tids.has(t));
    for (const t of fresh) this.tids.add(t);
    this.instance.addThreads(fresh);
    const cpus = this.instance.cpus();
    const share = Math.floor((maxBytes ?? DEFAULT_POLL_BYTES) / Math.max(1, cpus.length));
    let n = 0;
    for (const cpu of cpus) n += this.stream.readFrom(cpu, (into, offset, length) => this.instance.read(cpu, into, offset, length), share);
    this.stream.flush();
    return n;
  }

  /** What was seen so far; `describe` adds source lines and instructions (runs addr2line/objdump once per PC). */
  summary(describe = false): GuestSummary {
    return buildSummary(this.stream.aggregate, this.symbols, {
      pid: this.options.pid,
      binary: this.binary,
      arch: this.symbols.arch,
      nowUs: monotonicUs(),
      describe,
      kvmModules: this.modules,
    });
  }

  /** Where thread `tid`'s guest was at the last event read, with its source line and instruction. */
  lastGuestPc(tid: number): LastGuestPc | undefined {
    const t = this.stream.aggregate.threads.get(tid);
    const last = t?.lastGuestPc();
    if (!t || !last) return undefined;
    this.symbols.describe([this.symbols.name(last.pc)]);
    return lastGuestPc(t, this.symbols, monotonicUs());
  }

  /** The threads the trace has seen events of (the vCPU threads). */
  tracedThreads(): number[] {
    return [...this.stream.aggregate.threads.keys()];
  }

  close(): void {
    this.instance.close();
  }
}

/** CLOCK_MONOTONIC in µs: the trace instance uses the "mono" clock, so event times compare with it. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
