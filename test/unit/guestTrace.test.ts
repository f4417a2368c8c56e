// Inside the guest (issue 14): the KVM trace read, aggregated, named and explained, on text
// recorded from real runsc sandboxes (amd64 here, arm64 on the emulated board; see
// test/fixtures/guest-trace/README.md). The live test is test/runsc/guestHang.test.ts.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { parseTraceLine } from '../../adapter/guest/traceLine';
import { pcMarkerFromFormat, toGuestEvent, type PcMarkers } from '../../adapter/guest/events';
import { guestToHost } from '../../adapter/guest/addressMap';
import { TraceStream } from '../../adapter/guest/stream';
import { GuestAggregate } from '../../adapter/guest/aggregate';
import { canonicalRotation, LoopDetector, MIN_ITERATIONS } from '../../adapter/guest/loops';
import { buildSummary, type PcNamer } from '../../adapter/guest/report';
import { SymbolTableNamer, parseObjdumpLines, type NamedPc } from '../../adapter/guest/symbolize';
import { findTracefs, instanceName, instanceOwner, kvmEvents, removeStaleInstances } from '../../adapter/guest/tracefs';
import { renderSummary } from '../../adapter/guest/render';
import { main as cli } from '../../adapter/cli';
import type { ElfSymbol } from '../../adapter/elf/symbols';
import { repoRoot } from '../support/paths';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'guest-trace');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

/** Markers from a folder of recorded format files, as the tracer reads them at run time. */
function markersFrom(dir: string): PcMarkers {
  const markers: PcMarkers = {};
  for (const file of fs.readdirSync(path.join(FIXTURES, dir))) {
    const marker = pcMarkerFromFormat(fixture(path.join(dir, file)));
    if (marker !== undefined) markers[file.replace(/\.format$/, '')] = marker;
  }
  return markers;
}

/** "address size name" lines (go tool nm -n -size) as a function table. */
function symbolTable(file: string): ElfSymbol[] {
  return fixture(file)
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .map(([a, size, ...name]) => ({ address: BigInt(`0x${a}`), size: Number(size), name: name.join(' ') }))
    .sort((x, y) => (x.address < y.address ? -1 : 1));
}

/** A namer from the recorded symbols, with the instructions objdump printed for them (recorded too). */
function amd64Namer(): PcNamer {
  const table = new SymbolTableNamer('amd64', symbolTable('amd64-ring0-symbols.txt'));
  const instructions = parseObjdumpLines(fixture('amd64-ring0-objdump.txt'));
  return {
    name: (pc) => table.name(pc),
    describe: (pcs: NamedPc[]) => {
      for (const p of pcs) p.instruction = instructions.get(BigInt(p.address));
    },
  };
}

function streamOf(name: string, markers?: PcMarkers): TraceStream {
  const s = new TraceStream(new GuestAggregate(), markers);
  s.feed(fixture(name));
  return s;
}

describe('trace lines (tracefs text)', () => {
  it('splits recorded lines of both architectures into thread, time, event and text', () => {
    const amd64 = parseTraceLine(fixture('amd64-hang-steady.txt').split('\n')[0])!;
    assert.equal(amd64.tid, 24082);
    assert.equal(amd64.event, 'kvm_mmu_paging_element');
    assert.equal(amd64.timeUs, 815599823);
    const arm64 = parseTraceLine(fixture('arm64-runsc-sleep-loop.txt').split('\n')[0])!;
    assert.deepEqual(arm64, { tid: 123, timeUs: 122267574, event: 'kvm_exit', payload: 'IRQ: HSR_EC: 0x0000 (UNKNOWN), PC: 0x0000000000a187b0' });
  });

  it('copes with task names holding spaces and dashes, ns clocks, and refuses what is not a trace line', () => {
    assert.deepEqual(parseTraceLine('  my task-name-12 [001] d..1.  4521.338214123: kvm_entry: vcpu 0, rip 0x47e0a0'), { tid: 12, timeUs: 4521338214, event: 'kvm_entry', payload: 'vcpu 0, rip 0x47e0a0' });
    for (const line of ['CPU:1 [LOST 42 EVENTS]', '# tracer: nop', '', 'exe-1 [000] .....  12: kvm_exit: x', 'exe-x [000] ..... 1.5: kvm_exit: x']) assert.equal(parseTraceLine(line), undefined, line);
  });

  it('counts the events the kernel dropped, and a line split across two reads is read once', () => {
    const s = new TraceStream();
    const text = fixture('amd64-hang-steady.txt');
    s.feed('CPU:0 [LOST 4242 EVENTS]\n' + text.slice(0, 1000));
    s.feed(text.slice(1000));
    assert.equal(s.aggregate.lost, 4242);
    assert.equal(s.aggregate.total, 2000);
  });
});

describe('KVM event formats, read at run time', () => {
  it('finds where each amd64 (6.18) event prints the guest PC', () => {
    const m = markersFrom('amd64-6.18-formats');
    assert.equal(m.kvm_entry, 'rip 0x');
    assert.equal(m.kvm_exit, 'rip 0x');
    assert.equal(m.kvm_page_fault, 'rip 0x');
    assert.equal(m.kvm_emulate_insn, ':');
    assert.equal(m.kvm_inj_exception, undefined, 'an injected exception carries no PC');
    assert.equal(m.kvm_mmu_pagetable_walk, undefined, 'a walk carries an address, not a PC');
  });

  it('finds where each arm64 (6.1) event prints the guest PC, and reads exits by exception class', () => {
    const m = markersFrom('arm64-6.1-formats');
    assert.equal(m.kvm_entry, 'PC: 0x');
    assert.equal(m.kvm_exit, 'PC: 0x');
    const exits = fixture('arm64-runsc-sleep-loop.txt')
      .split('\n')
      .map((l) => parseTraceLine(l))
      .filter((l) => l?.event === 'kvm_exit')
      .map((l) => toGuestEvent(l!, m));
    assert.ok(exits.length > 0);
    assert.ok(exits.every((e) => e.kind === 'exit' && /^[0-9a-f]+$/.test(e.pc!) && !e.pc!.startsWith('0')), 'PCs without the leading zeros of %016lx');
    assert.deepEqual([...new Set(exits.map((e) => e.reason))].sort(), ['IRQ', 'TRAP DABT_LOW']);
  });

  it('reads the amd64 events of the hang: emulated instructions, injected exceptions, failed walks', () => {
    const m = markersFrom('amd64-6.18-formats');
    const events = fixture('amd64-hang-start.txt')
      .split('\n')
      .map((l) => parseTraceLine(l))
      .filter((l) => l !== undefined)
      .map((l) => toGuestEvent(l!, m));
    const first = events.find((e) => e.kind === 'emulate')!;
    assert.equal(first.pc, 'f617c0');
    assert.equal(first.detail, '6a 00');
    assert.deepEqual(events.find((e) => e.kind === 'exception') && { reason: events.find((e) => e.kind === 'exception')!.reason, detail: events.find((e) => e.kind === 'exception')!.detail }, { reason: '#PF', detail: '0x9' });
    assert.equal(events.find((e) => e.kind === 'walk-error')!.reason, '9 P|RSVD');
  });
});

describe('guest addresses → runsc addresses (gVisor ring0 layout)', () => {
  it('amd64: the lower half is the host address; the kernel half (48- or 57-bit) drops its top bits', () => {
    assert.deepEqual(guestToHost('amd64', 0xf617c0n), { host: 0xf617c0n, half: 'lower' });
    assert.deepEqual(guestToHost('amd64', 0xffff800000f620c0n), { host: 0xf620c0n, half: 'upper' });
    assert.deepEqual(guestToHost('amd64', 0xff00000000f620c0n), { host: 0xf620c0n, half: 'upper' });
  });

  it('arm64: KernelStartAddress is 0xffff000000000000', () => {
    assert.deepEqual(guestToHost('arm64', 0xffff000000a18400n), { host: 0xa18400n, half: 'upper' });
    assert.deepEqual(guestToHost('arm64', 0xa21c00n), { host: 0xa21c00n, half: 'lower' });
  });

  it('names the recorded PCs of both architectures by runsc symbols', () => {
    const amd64 = new SymbolTableNamer('amd64', symbolTable('amd64-ring0-symbols.txt'));
    assert.equal(amd64.name('ffff800000f620c0').symbol, 'gvisor.dev/gvisor/pkg/ring0.pageFault+0x0');
    assert.equal(amd64.name('f617c6').symbol, 'gvisor.dev/gvisor/pkg/ring0.start+0x6');
    const arm64 = new SymbolTableNamer('arm64', symbolTable('arm64-runsc-symbols.txt'));
    assert.equal(arm64.name('ffff000000a18400').symbol, 'gvisor.dev/gvisor/pkg/ring0.vectors+0x400');
    assert.equal(arm64.name('a21c00').function, 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.(*vCPU).fault');
  });
});

describe('loops', () => {
  it('finds a repeating cycle, its period and turns, and names one cycle one way', () => {
    const d = new LoopDetector();
    let t = 0;
    for (const tok of [9, 8, 7]) d.push(tok, t++);
    for (let i = 0; i < 50; i++) for (const tok of [1, 2, 3, 4]) d.push(tok, t++);
    for (const tok of [5, 6, 5, 7, 8]) d.push(tok, t++);
    const [loop, ...rest] = d.snapshot();
    assert.deepEqual(loop.tokens, [1, 2, 3, 4]);
    assert.equal(loop.iterations, 50);
    assert.equal(rest.length, 0);
    assert.deepEqual(canonicalRotation([3, 1, 2]), [1, 2, 3]);
  });

  it('does not see a loop in a sequence that never repeats, nor in fewer turns than the minimum', () => {
    const d = new LoopDetector();
    for (let i = 0; i < 1000; i++) d.push(i, i);
    for (let i = 0; i < MIN_ITERATIONS - 1; i++) for (const tok of [7001, 7002]) d.push(tok, i);
    assert.deepEqual(d.snapshot(), []);
  });

  it('a loop still going on at a snapshot is counted once, not again at the next snapshot', () => {
    const d = new LoopDetector();
    for (let i = 0; i < 10; i++) for (const tok of [1, 2]) d.push(tok, i);
    assert.equal(d.snapshot()[0].iterations, 10);
    for (let i = 0; i < 10; i++) for (const tok of [1, 2]) d.push(tok, i);
    assert.equal(d.snapshot()[0].iterations, 20);
  });
});

describe('the amd64 hang, recorded', () => {
  const options = { pid: 1, binary: 'runsc', arch: 'amd64' as const, describe: true, kvmModules: ['kvm', 'kvm_pvm'] };

  it('from the start: the first fault is a reserved bit in a 1 GB page entry, at ring0.start', () => {
    const s = buildSummary(streamOf('amd64-hang-start.txt', markersFrom('amd64-6.18-formats')).aggregate, amd64Namer(), options);
    const vcpu = s.threads.find((t) => t.firstFault)!;
    assert.equal(vcpu.firstFault!.symbol, 'gvisor.dev/gvisor/pkg/ring0.start+0x6');
    assert.equal(vcpu.firstFault!.level, 3);
    assert.match(vcpu.firstFault!.error, /RSVD/);
    assert.ok(s.findings.some((f) => /1 GB page/.test(f) && /pdpe1gb/.test(f) && /ring0\.start\+0x6/.test(f)), s.findings.join('\n'));
    assert.equal(vcpu.exceptions[0].exception, '#PF (0x9)');
  });

  it('attached later: a 6-step loop through ring0.pageFault and ring0.exception, faulting on its own GS read', () => {
    const s = buildSummary(streamOf('amd64-hang-steady.txt', markersFrom('amd64-6.18-formats')).aggregate, amd64Namer(), options);
    const [loop] = s.loops;
    assert.equal(loop.period, 6);
    assert.ok(loop.iterations >= 19);
    assert.deepEqual(new Set(loop.symbols.map((x) => x.replace(/\+0x[0-9a-f]+$/, ''))), new Set(['gvisor.dev/gvisor/pkg/ring0.pageFault', 'gvisor.dev/gvisor/pkg/ring0.exception']));
    assert.equal(s.hot[0].count, Math.max(...s.hot.map((h) => h.count)));
    assert.ok(s.hot.every((h) => h.symbol.startsWith('gvisor.dev/gvisor/pkg/ring0.')));
    const fault = s.threads[0].faults[0];
    assert.equal(fault.faultAddress, '0x110');
    assert.equal(fault.instruction, 'mov %gs:0x110,%rax');
    assert.ok(s.findings.some((f) => /GS base is 0/.test(f) && /part of the loop/.test(f)), s.findings.join('\n'));
    assert.ok(s.findings.some((f) => /No kvm_entry or kvm_exit fired/.test(f)));
    assert.match(renderSummary(s), /Loops:\n {2}vCPU thread 24082: 6 steps/);
    assert.equal(s.recent.length, 64);
    assert.ok(s.recent.every((e, i) => i === 0 || e.timeUs >= s.recent[i - 1].timeUs), 'recent events oldest first');
  });

  it('says nothing it cannot back: a short excerpt gives no rate findings and no loop finding', () => {
    const stream = new TraceStream(new GuestAggregate(), markersFrom('amd64-6.18-formats'));
    stream.feed(fixture('amd64-hang-steady.txt').split('\n').slice(0, 400).join('\n') + '\n');
    const s = buildSummary(stream.aggregate, amd64Namer(), { ...options, kvmModules: ['kvm', 'kvm_intel'] });
    assert.ok(s.loops[0].iterations < 20, 'the loop is seen…');
    assert.ok(!s.findings.some((f) => /goes round/.test(f)), '…but fewer than 20 turns make no finding');
    assert.ok(!s.findings.some((f) => /emulates/.test(f)), 'fewer than 100 emulated instructions make no rate');
    assert.ok(!s.findings.some((f) => /PVM/.test(f)), 'kvm_pvm is not loaded');
  });
});

describe('memory stays flat in a flood', () => {
  it('a million events at a million PCs keep bounded tables', () => {
    const agg = new GuestAggregate();
    for (let i = 0; i < 1_000_000; i++) agg.add({ tid: 1 + (i % 3), timeUs: i, event: 'kvm_emulate_insn', kind: 'emulate', pc: i.toString(16), detail: '90' });
    assert.equal(agg.total, 1_000_000);
    assert.ok(agg.recent.length <= 1024);
    for (const t of agg.threads.values()) {
      assert.ok(t.pcs.counts.size <= 4097);
      assert.ok(t.emulated.counts.size <= 4097);
      assert.ok(t.tokenNames.length <= 4096);
    }
    assert.deepEqual(agg.recentInOrder().at(-1)?.timeUs, 999_999);
  });
});

describe('tracefs instances and errors', () => {
  it('removes the instance of a dead owner, never a live owner\'s or anyone else\'s', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-tracefs-'));
    const proc = path.join(root, 'proc');
    const stat = (pid: number, start: string) => {
      fs.mkdirSync(path.join(proc, String(pid)), { recursive: true });
      // Field 2 with a space and parentheses, as comm may have: fields count from the last ')'.
      fs.writeFileSync(path.join(proc, String(pid), 'stat'), `${pid} (a (b) c) S ${'1 '.repeat(18)}${start} 0 0\n`);
    };
    stat(100, '5000');
    stat(200, '7000');
    const instances = path.join(root, 'instances');
    for (const name of [instanceName(100, '5000', 0), instanceName(200, '6999', 0), instanceName(300, '1', 2), 'someone-else']) fs.mkdirSync(path.join(instances, name), { recursive: true });
    const removed = removeStaleInstances(root, proc);
    assert.deepEqual(removed.sort(), [instanceName(200, '6999', 0), instanceName(300, '1', 2)].sort());
    assert.deepEqual(fs.readdirSync(instances).sort(), [instanceName(100, '5000', 0), 'someone-else'].sort());
    assert.deepEqual(instanceOwner(instanceName(42, '99', 1)), { pid: 42, startTime: '99' });
    fs.rmSync(root, { recursive: true });
  });

  it('says what to do without root, without tracefs, and without KVM events', () => {
    assert.throws(() => findTracefs(['/nonexistent'], 1000), /needs root.*sudo.*"asRoot": true/);
    assert.throws(() => findTracefs(['/nonexistent/tracing'], 0), /mount -t tracefs nodev \/sys\/kernel\/tracing/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-tracefs-'));
    assert.throws(() => kvmEvents(empty), /CONFIG_KVM.*CONFIG_FTRACE/);
    fs.rmSync(empty, { recursive: true });
  });

  it('the CLI refuses bad arguments with a sentence', async () => {
    const run = async (args: string[]) => {
      let err = '';
      const sink = new Writable({ write: (chunk, _enc, done) => ((err += String(chunk)), done()) });
      return { code: await cli(['guest', ...args], { out: sink, err: sink, stdin: process.stdin }), err };
    };
    assert.deepEqual(await run(['--pid', 'x']).then((r) => [r.code, /--pid PID/.test(r.err)]), [2, true]);
    assert.deepEqual(await run(['--pid', '1', '--seconds', '-3']).then((r) => [r.code, /--seconds/.test(r.err)]), [2, true]);
    const gone = await run(['--pid', '999999999']);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /no process 999999999.*bluepill-lens processes/);
  });
});

describe('trace instance set-up errors are sentences that say what to do', () => {
  it('a tracefs without per-CPU buffers: ENOENT becomes the kernel requirement', async () => {
    const { TraceInstance, GuestTraceError } = await import('../../adapter/guest/tracefs');
    // A directory shaped like tracefs's top (instances/) but with none of its files: the first
    // file tracefs would have made in a new instance is missing, as on a kernel without it.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-tracefs-'));
    try {
      fs.mkdirSync(path.join(root, 'instances'));
      assert.throws(
        () => new TraceInstance({ tracefs: root, events: [], tids: [1] }),
        (e: Error) => e instanceof GuestTraceError && /^this kernel's tracefs has no .*per_cpu: the guest trace needs per-CPU trace buffers/.test(e.message),
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('each errno gets its advice (lockdown for EACCES, remount for EROFS)', async () => {
    const { traceSetupAdvice } = await import('../../adapter/guest/tracefs');
    const err = (code: string) => Object.assign(new Error(code), { code, path: '/sys/kernel/tracing/instances/x/tracing_on' }) as NodeJS.ErrnoException;
    assert.match(traceSetupAdvice(err('EACCES')), /lockdown/);
    assert.match(traceSetupAdvice(err('EROFS')), /mount -o remount,rw/);
    assert.match(traceSetupAdvice(err('EIO')), /failed at \/sys\/kernel\/tracing\/instances\/x\/tracing_on: EIO/);
  });
});
