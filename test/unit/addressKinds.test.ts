// Explain This Address, the pure classification, on facts captured at test time from a live
// process (the hello fixture, which prints where its own code, constants, globals, a heap object
// and a stack variable are): its /proc/PID/maps, its threads' /proc/.../syscall, its ELF's
// sections. Each verdict is checked against what the program says and against readelf -S.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readElfSections } from '../../adapter/elf/sections';
import { explainAddress, expectedReservation, type ProcessFacts } from '../../adapter/explain/addressKinds';
import { parseProcMaps, stackPointerOf, type Mapping } from '../../adapter/explain/procMaps';
import { physicalAddressBits } from '../../adapter/explain/localProcess';
import { arm64GuestPhysicalBits, fillMappings, readFill } from '../../adapter/explain/gvisorReservation';
import { GO_HEAP, GVISOR_RESERVATION } from '../../adapter/explain/addressFacts.generated';
import { dlvInteger, goHeapSpan, withDlvHeapFacts } from '../../adapter/explain/goHeapDlv';
import { buildFixture } from '../support/fixtures';
import { readelfSections, startHelloWithAddresses } from '../support/helloAddresses';

describe('Explain This Address: classification of a live process\'s addresses', () => {
  let binary: string;
  let pid: number;
  let printed: Record<string, bigint>;
  let maps: Mapping[];
  let facts: ProcessFacts;
  let threads: { tid: number; sp?: bigint }[];
  let child: ChildProcess | undefined;

  before(async () => {
    binary = buildFixture('hello');
    const started = await startHelloWithAddresses(binary);
    child = started.child;
    printed = started.printed;
    pid = child.pid!;
    await new Promise((r) => setTimeout(r, 200)); // let its threads block in the kernel
    maps = parseProcMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
    threads = fs.readdirSync(`/proc/${pid}/task`).map((t) => ({ tid: Number(t), sp: stackPointerOf(fs.readFileSync(`/proc/${pid}/task/${t}/syscall`, 'utf8')) }));
    facts = { arch: 'amd64', pid, exePath: binary, sections: readElfSections(binary).sections, loadBias: 0n, isGo: true, isGvisorKvm: false, maps, threads, physicalAddressBits: physicalAddressBits() };
  });
  after(() => {
    child?.kill('SIGKILL'); // our own child, by its handle
  });

  it('code, constants and each kind of global: the section readelf -S names', () => {
    const independent = readelfSections(binary);
    const expected: Record<string, [string, string]> = { text: ['code', '.text'], rodata: ['rodata', '.rodata'], noptrdata: ['data', '.noptrdata'], data: ['data', '.data'], bss: ['bss', '.bss'], noptrbss: ['bss', '.noptrbss'] };
    for (const [what, [kind, section]] of Object.entries(expected)) {
      const e = explainAddress(printed[what], facts, 'test');
      const byReadelf = independent.find((s) => s.start <= printed[what] && printed[what] < s.end)?.name;
      assert.equal(byReadelf, section, `${what}: readelf puts 0x${printed[what].toString(16)} in ${byReadelf}`);
      assert.equal(e.section, section, what);
      assert.equal(e.kind, kind, what);
    }
  });

  it('a heap object and a goroutine\'s stack variable: the Go heap, with its arena', () => {
    for (const what of ['heap', 'stack']) {
      const e = explainAddress(printed[what], facts, 'test');
      assert.equal(e.kind, 'go-heap', `${what}: ${e.summary}`);
      const arena = ((printed[what] - BigInt(GO_HEAP.arenaBaseOffset.amd64)) & ((1n << 64n) - 1n)) / BigInt(GO_HEAP.heapArenaBytes);
      assert.match(e.summary, new RegExp(`arena ${arena}\\b`));
      assert.ok(e.unknown.some((u) => /span class/.test(u)), 'says the span is not known from /proc');
      const m = maps.find((x) => x.start <= printed[what] && printed[what] < x.end)!;
      assert.equal(m.path, '', 'the heap is anonymous memory in the maps');
    }
  });

  it('threads\' stacks: each blocked thread\'s SP is on its own stack, the main thread\'s in [stack]', () => {
    const blocked = threads.filter((t) => t.sp !== undefined);
    assert.ok(blocked.length >= 2, `threads with an SP: ${blocked.length}`);
    for (const t of blocked) {
      const e = explainAddress(t.sp! + 16n, facts, 'test');
      assert.equal(e.kind, 'thread-stack', `thread ${t.tid}: ${e.summary}`);
      assert.match(e.summary, new RegExp(`thread ${t.tid}\\b`));
      if (t.tid === pid) assert.equal(e.mapping?.path, '[stack]');
    }
  });

  it('vDSO, vvar, vsyscall, and anonymous memory: as /proc/PID/maps names them', () => {
    const byPath = (p: string) => maps.find((m) => m.path === p);
    for (const [path, kind] of [['[vdso]', 'vdso'], ['[vvar]', 'vvar'], ['[vsyscall]', 'vsyscall']] as const) {
      const m = byPath(path);
      if (!m) continue; // a kernel without it
      assert.equal(explainAddress(m.start + 8n, facts, 'test').kind, kind, path);
    }
    assert.ok(byPath('[vdso]'), 'the process has a vDSO');
    const sections = readelfSections(binary);
    const arena = BigInt(GO_HEAP.heapArenaBytes);
    const plain = maps.find((m) => m.path === '' && m.start % arena !== 0n && m.end % arena !== 0n && !sections.some((s) => s.start < m.end && m.start < s.end) && !threads.some((t) => t.sp !== undefined && m.start <= t.sp && t.sp < m.end));
    assert.ok(plain, 'an anonymous mapping of the runtime\'s own');
    const e = explainAddress(plain.start, facts, 'test');
    assert.ok(e.kind === 'anonymous' || e.kind === 'go-heap', e.kind);
    assert.equal(e.mapping?.range, `0x${plain.start.toString(16)}-0x${plain.end.toString(16)}`);
  });

  it('an address in no mapping, and a kernel-half one', () => {
    const sorted = [...maps].sort((a, b) => (a.start < b.start ? -1 : 1));
    const gap = sorted.findIndex((m, i) => i + 1 < sorted.length && m.end < sorted[i + 1].start);
    assert.equal(explainAddress(sorted[gap].end, facts, 'test').kind, 'unmapped');
    assert.equal(explainAddress(0xffff800000401000n, facts, 'test').kind, 'kernel-half');
    const inSandbox = explainAddress(0xffff800000401000n, { ...facts, isGvisorKvm: true }, 'test');
    assert.match(inSandbox.summary, /alias of host address 0x401000/);
  });

  it('without /proc (a remote board): the ELF names sections; for the rest it says what is unknown', () => {
    const remote: ProcessFacts = { arch: 'amd64', exePath: binary, sections: facts.sections, isGo: true, isGvisorKvm: false };
    assert.equal(explainAddress(printed.text, remote, 'test').kind, 'code');
    assert.equal(explainAddress(printed.bss, remote, 'test').section, '.bss');
    const heap = explainAddress(printed.heap, remote, 'test');
    assert.equal(heap.kind, 'unknown');
    assert.ok(heap.unknown.some((u) => /\/proc\/PID\/maps/.test(u)));
  });
});

describe('gVisor\'s KVM guest-physical reservation (facts from gVisor\'s source)', () => {
  it('the generated facts record the versions they were read from', () => {
    assert.match(GVISOR_RESERVATION.version, /^v0\.0\.0-\d{14}-[0-9a-f]{12}$/);
    const pinned = /GVISOR_VERSION:-(v[^}]+)}/.exec(fs.readFileSync('tools/build-runsc.sh', 'utf8'))![1];
    assert.equal(GVISOR_RESERVATION.version, pinned, 'regenerate with node tools/gen-address-facts.mjs after changing the pin');
    const goVersion = /go version (go\S+)/.exec(execFileSync('go', ['version'], { encoding: 'utf8' }))![1];
    assert.equal(GO_HEAP.version, goVersion, 'regenerate with node tools/gen-address-facts.mjs after changing Go');
  });

  it('size: user space minus the guest\'s physical space plus a fault block; none when physical space is larger', () => {
    const arm = expectedReservation('arm64', 40).bytes;
    assert.equal(arm, (1n << 48n) - (1n << 40n) + BigInt(GVISOR_RESERVATION.arch.arm64.faultBlockSize));
    // pmap shows KiB: the notes' "273 TB" is 273,804,165,120 K plus the fault block.
    assert.equal(((1n << 48n) - (1n << 40n)) / 1024n, 273804165120n);
    assert.equal(expectedReservation('amd64', 48).bytes, 0n);
    assert.equal(expectedReservation('amd64', 46).bytes, (1n << 47n) - ((1n << 46n) - BigInt(GVISOR_RESERVATION.arch.amd64.reservedMemory)) + BigInt(GVISOR_RESERVATION.arch.amd64.faultBlockSize));
  });

  it('a huge PROT_NONE anonymous mapping in a gVisor KVM process is named, with why', () => {
    // A fake map (a unit test of the rule): a sandbox on an ARM64 host with 40-bit IPA.
    const start = 0x1000000000n;
    const size = expectedReservation('arm64', 40).bytes;
    const maps = parseProcMaps(`${start.toString(16)}-${(start + size).toString(16)} ---p 00000000 00:00 0 \n`);
    const facts: ProcessFacts = { arch: 'arm64', isGo: true, isGvisorKvm: true, maps };
    const e = explainAddress(start + 0x1234n, facts, 'test');
    assert.equal(e.kind, 'gvisor-reservation');
    assert.match(e.summary, /injective host virtual to guest physical mapping/);
    assert.ok(e.details.some((d) => d.includes(GVISOR_RESERVATION.version)));
    assert.equal(explainAddress(start + 0x1234n, { ...facts, isGvisorKvm: false }, 'test').kind, 'anonymous');
  });

  it('arm64: the guest-physical bits are KVM\'s IPA size, at most 40; 40 when KVM does not say', () => {
    assert.equal(arm64GuestPhysicalBits(48), 40);
    assert.equal(arm64GuestPhysicalBits(36), 36);
    assert.equal(arm64GuestPhysicalBits(undefined), 40);
    assert.equal(arm64GuestPhysicalBits(0), 40, 'an ioctl that answers 0 leaves gVisor\'s default');
    // At 39 bits or less, gVisor's fault blocks are 1 GiB (machine_arm64.go initFaultBlocks).
    assert.equal(expectedReservation('arm64', 36).faultBlock, BigInt(GVISOR_RESERVATION.arch.arm64.smallFaultBlockSize));
  });

  it('checks a fill against fillAddressSpace\'s loop: halved requests, enough filled, stopped in time', () => {
    // Fake maps (a unit test of the rule): two mappings of halved requests, as a board's sandbox shows.
    const expected = expectedReservation('arm64', 40);
    const r = expected.bytes;
    const at = (start: bigint, size: bigint) => `${start.toString(16)}-${(start + size).toString(16)} ---p 00000000 00:00 0 \n`;
    const half = r / 2n;
    const maps = (sizes: bigint[]) => fillMappings(parseProcMaps(sizes.map((size, i) => at(0x1000000000n + BigInt(i) * (1n << 46n), size)).join('')));
    const good = readFill(maps([half + r / 4n + r / 8n, r / 16n + r / 16n]), expected);
    assert.equal(good.consistent, true, good.why);
    // The kernel merges adjacent mmaps: two sixteenths side by side read as one eighth.
    assert.deepEqual(good.halvings, [1, 2, 3, 3]);
    assert.equal(readFill(maps([r - 4096n]), expected).consistent, false, 'less than required');
    // The whole request, then three pages: the whole request alone had filled what was required.
    assert.match(readFill(maps([r + 4096n * 3n]), expected).why, /would have stopped before its last mmap/);
    // Assuming 39-bit IPA instead of the 40 the fill used: less filled than required.
    assert.match(readFill(maps([r]), expectedReservation('arm64', 39)).why, /less than the .* required/);
    // More mmaps than needed: the loop had already stopped.
    assert.match(readFill(maps([3n * r]), expected).why, /would have stopped before its last mmap/);
    assert.match(readFill(maps([r, r / 2n]), expected).why, /would have stopped before its last mmap/);
    assert.equal(readFill([], expected).consistent, false);
  });
});

describe('the Go heap span as dlv shows it', () => {
  it('reads dlv\'s integer forms and names a span read from a fake evaluate', async () => {
    assert.equal(dlvInteger('14426966769664 = 0xd1f0a3ac000'), 14426966769664n);
    assert.equal(dlvInteger('37'), 37n);
    assert.equal(dlvInteger('runtime.spanClass(37)'), 37n);
    assert.equal(dlvInteger('*runtime.mspan {...}'), undefined);
    // A fake dlv (a unit test of the interpretation): an in-use span of 48-byte objects at 0xc000100000.
    const values: Record<string, string> = { '.state.s.value': '1', '.spanclass': '10', '.elemsize': '48', '.startAddr': `${0xc000100000} = 0xc000100000`, '.largeType': '*internal/abi.Type nil' };
    const span = await goHeapSpan(0xc000100000n + 100n, 'amd64', async (expr) => (/\.spans\[\d+\]$/.test(expr) || /arenas\[0\]\[\d+\]$/.test(expr) ? '*runtime.mspan {...}' : values[Object.keys(values).find((k) => expr.endsWith(k))!]));
    assert.equal(span.span?.sizeclass, 5);
    assert.equal(span.span?.noscan, false);
    assert.equal(span.span?.object?.start, 0xc000100000n + 96n);
    const merged = withDlvHeapFacts({ address: '0xc000100064', kind: 'unknown', summary: '', details: [], unknown: ['Which mapping holds it: ...'], origin: 'test' }, span);
    assert.equal(merged.kind, 'go-heap');
    assert.ok(merged.unknown.every((u) => !/Which mapping/.test(u)));
  });
});
