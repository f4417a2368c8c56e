// The binary trace reader's pure parts. Printing: records are rebuilt, field by field, from the
// values in lines the kernel itself printed (the recorded amd64 hang on 6.18 and the ARM64 board
// on 6.1, with those kernels' format files), and must print as the kernel printed them. Pages:
// the recorded pages of the live hang, and hand-made pages for the header kinds a quiet trace
// rarely has (padding, time extends, long records, lost events).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileFormat, type EventFormat } from '../../adapter/guest/eventFormat';
import { pageLayoutFrom, readPage, RecordCursor } from '../../adapter/guest/ringBuffer';
import { scanTraceLines, type TraceLine } from '../../adapter/guest/traceLine';
import { repoRoot } from '../support/paths';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'guest-trace');

function formatOf(dir: string, name: string): EventFormat {
  return compileFormat(fs.readFileSync(path.join(FIXTURES, dir, `${name}.format`), 'utf8'));
}

/** A record of `format` with the given field values (arrays as byte lists). */
function record(format: EventFormat, values: Record<string, bigint | number[]>): Buffer {
  let size = 8;
  for (const f of format.fields.values()) size = Math.max(size, f.offset + f.size);
  const r = Buffer.alloc(size);
  r.writeUInt16LE(format.id, 0);
  for (const [name, v] of Object.entries(values)) {
    const f = format.fields.get(name);
    assert.ok(f, `${format.name} has a field ${name}`);
    if (Array.isArray(v)) Buffer.from(v).copy(r, f.offset);
    else if (f.size === 8) r.writeBigUInt64LE(BigInt.asUintN(64, v), f.offset);
    else if (f.size === 4) r.writeUInt32LE(Number(BigInt.asUintN(32, v)), f.offset);
    else if (f.size === 2) r.writeUInt16LE(Number(v), f.offset);
    else r.writeUInt8(Number(v), f.offset);
  }
  return r;
}

function lines(file: string, event: string): TraceLine[] {
  const out: TraceLine[] = [];
  scanTraceLines(fs.readFileSync(path.join(FIXTURES, file), 'latin1'), (l) => l.event === event && out.push(l));
  return out;
}

const hex = (s: string) => BigInt(`0x${s}`);

/** For each kernel line of `event` in `file`: the field values it shows, rebuilt into a record and printed. */
function expectPrintedAsKernel(file: string, formats: string, event: string, values: (payload: string) => Record<string, bigint | number[]>): void {
  const format = formatOf(formats, event);
  const seen = lines(file, event);
  assert.ok(seen.length > 0, `${file} has ${event} lines`);
  for (const l of seen) assert.equal(format.print(record(format, values(l.payload)), 0, 0), l.payload);
}

function match(re: RegExp, s: string): string[] {
  const m = re.exec(s);
  assert.ok(m, `${s} matches ${re}`);
  return m;
}

describe('event formats print records as the kernel does', () => {
  it('ARM64 6.1: kvm_exit (two symbol tables, %04x, %016lx), kvm_entry', () => {
    expectPrintedAsKernel('arm64-runsc-sleep-loop.txt', 'arm64-6.1-formats', 'kvm_exit', (p) => {
      const [, ret, ec, pc] = match(/^(\w+): HSR_EC: 0x([0-9a-f]+) \(\w+\), PC: 0x([0-9a-f]+)$/, p);
      return { ret: BigInt(['IRQ', 'SERROR', 'TRAP'].indexOf(ret)), esr_ec: hex(ec), vcpu_pc: hex(pc) };
    });
    expectPrintedAsKernel('arm64-runsc-sleep-loop.txt', 'arm64-6.1-formats', 'kvm_entry', (p) => ({ vcpu_pc: hex(match(/^PC: 0x([0-9a-f]+)$/, p)[1]) }));
  });

  it('ARM64 6.1: the kernel\'s %#08lx (0x even for zero, counted in the width) and negative %d', () => {
    expectPrintedAsKernel('arm64-runsc-sleep-loop.txt', 'arm64-6.1-formats', 'kvm_timer_save_state', (p) => {
      const [, ctl, cval, idx] = match(/CTL: (0x[0-9a-f]+) CVAL:\s+(0x[0-9a-f]+) arch_timer_ctx_index: (-?\d+)$/, p);
      return { ctl: BigInt(ctl), cval: BigInt(cval), timer_idx: BigInt(idx) };
    });
    expectPrintedAsKernel('arm64-runsc-sleep-loop.txt', 'arm64-6.1-formats', 'kvm_get_timer_map', (p) => {
      const [, vcpu, dv, dp, ep] = match(/^VCPU: (\d+), dv: (-?\d+), dp: (-?\d+), ep: (-?\d+)$/, p).map((x, i) => (i ? x : ''));
      return { vcpu_id: BigInt(vcpu), direct_vtimer: BigInt(dv), direct_ptimer: BigInt(dp), emul_ptimer: BigInt(ep) };
    });
  });

  it('amd64 6.18: the page walks (%llx, __print_flags) and the walker\'s error', () => {
    expectPrintedAsKernel('amd64-hang-steady.txt', 'amd64-6.18-formats', 'kvm_mmu_pagetable_walk', (p) => {
      const [, addr, pferr] = match(/^addr ([0-9a-f]+) pferr ([0-9a-f]+) /, p);
      return { addr: hex(addr), pferr: hex(pferr) };
    });
    expectPrintedAsKernel('amd64-hang-steady.txt', 'amd64-6.18-formats', 'kvm_mmu_paging_element', (p) => {
      const [, pte, level] = match(/^pte ([0-9a-f]+) level (\d+)$/, p);
      return { pte: hex(pte), level: BigInt(level) };
    });
    expectPrintedAsKernel('amd64-hang-steady.txt', 'amd64-6.18-formats', 'kvm_mmu_walker_error', (p) => ({ pferr: hex(match(/^pferr ([0-9a-f]+)/, p)[1]) }));
  });

  it('amd64 6.18: an injected exception (ternaries, an empty symbol table) and an emulated instruction (__print_hex)', () => {
    const vectors: Record<string, number> = { '#DE': 0, '#UD': 6, '#GP': 13, '#PF': 14 };
    expectPrintedAsKernel('amd64-hang-steady.txt', 'amd64-6.18-formats', 'kvm_inj_exception', (p) => {
      const [, name, code, reinjected] = match(/^(#\w+)(?: \((0x[0-9a-f]+)\))?( \[reinjected\])?$/, p);
      return { exception: BigInt(vectors[name]), has_error: code ? 1n : 0n, error_code: code ? BigInt(code) : 0n, reinjected: reinjected ? 1n : 0n };
    });
    expectPrintedAsKernel('amd64-hang-steady.txt', 'amd64-6.18-formats', 'kvm_emulate_insn', (p) => {
      const [, cs, rip, bytes, mode, failed] = match(/^([0-9a-f]+):([0-9a-f]+):([0-9a-f ]+) \((\w+)\)( failed)?$/, p);
      const insn = bytes.split(' ').map((b) => parseInt(b, 16));
      const flags = { real: 0, vm16: 3, prot16: 1, prot32: 5, prot64: 9 }[mode]!;
      return { csbase: hex(cs), rip: hex(rip), len: BigInt(insn.length), insn, flags: BigInt(flags), failed: failed ? 1n : 0n };
    });
  });

  it('an expression beyond the parser prints "?", not a guess', () => {
    const f = compileFormat('name: x\nID: 7\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:u32 a;\toffset:8;\tsize:4;\tsigned:0;\n\nprint fmt: "a=%u b=%s", REC->a, some_helper(REC->a)\n');
    const r = Buffer.alloc(12);
    r.writeUInt32LE(42, 8);
    assert.equal(f.print(r, 0, 12), 'a=42 b=?');
  });
});

describe('ring buffer pages', () => {
  const dir = path.join(FIXTURES, 'amd64-hang-raw');
  const layout = pageLayoutFrom(fs.readFileSync(path.join(dir, 'header_page'), 'utf8'));

  it('reads events/header_page (x86-64 6.18: timestamp 0, commit 8, data 16)', () => {
    assert.deepEqual(layout, { timestampOffset: 0, commitOffset: 8, commitSize: 8, dataOffset: 16 });
  });

  it('walks the recorded pages of the hang: every record has its format, times never go back, nothing lost', () => {
    const formats = new Map(fs.readdirSync(path.join(dir, 'formats')).map((f) => {
      const c = compileFormat(fs.readFileSync(path.join(dir, 'formats', f), 'utf8'));
      return [c.id, c] as const;
    }));
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.pages'))) {
      const pages = fs.readFileSync(path.join(dir, file));
      const c = new RecordCursor(pages, layout);
      let n = 0;
      let last = 0;
      const names = new Set<string>();
      while (c.next()) {
        n++;
        const f = formats.get(pages.readUInt16LE(c.at));
        assert.ok(f, `record ${n} has a known event id ${pages.readUInt16LE(c.at)}`);
        names.add(f.name);
        assert.ok(c.timeNs >= last, 'times never go back');
        last = c.timeNs;
        assert.ok(c.size >= 8 && c.at + c.size <= pages.length);
      }
      assert.ok(n > 1000, `${file}: ${n} records`);
      assert.equal(c.lost, 0);
      assert.ok(names.has('kvm_mmu_pagetable_walk') && names.has('kvm_inj_exception'), [...names].join(', '));
    }
  });

  /** A page: 16-byte header (time stamp, commit with flags), then the given words. */
  function page(time: bigint, words: number[], flags = 0, missed?: bigint): Buffer {
    const p = Buffer.alloc(4096);
    p.writeBigUInt64LE(time, 0);
    p.writeUInt32LE(((words.length * 4) | flags) >>> 0, 8);
    words.forEach((w, i) => p.writeUInt32LE(w >>> 0, 16 + i * 4));
    if (missed !== undefined) p.writeBigUInt64LE(missed, 16 + words.length * 4);
    return p;
  }
  const header = (typeLen: number, delta: number) => (typeLen | (delta << 5)) >>> 0;

  it('adds time deltas and time extends, reads long records, skips padding, ends at zero-delta padding', () => {
    const p = page(1000n, [
      header(2, 5), 0xaaaa, 0xbbbb, // a short record: 8 bytes, at 1005
      header(30, 3), 2, // time extend: + (2 << 27) + 3
      header(0, 7), 12 + 4, 1, 2, 3, // a long record of 12 bytes (its length word counts itself), at +7
      header(29, 1), 8, 0xdead, // a discarded record (padding with a delta, which counts for nothing): its 8 bytes skipped
      header(1, 1), 0xcccc, // 4 bytes, at +1
      header(29, 0), 0, // zero-delta padding: the end
      header(1, 1), 0xffff, // never read
    ]);
    const seen: [number, number, number][] = [];
    readPage(p, { onRecord: (r, at, size, ns) => seen.push([r.readUInt32LE(at), size, ns]), onLost: () => assert.fail('nothing lost') });
    const extended = 1005 + 2 * 2 ** 27 + 3;
    assert.deepEqual(seen, [
      [0xaaaa, 8, 1005],
      [1, 12, extended + 7],
      [0xcccc, 4, extended + 8],
    ]);
  });

  it('counts lost events: the stored count, or one when the kernel kept no count', () => {
    const stored = page(0n, [header(1, 1), 7], 2 ** 31 + 2 ** 30, 42n);
    const unknown = page(0n, [header(1, 1), 7], 2 ** 31);
    const c = new RecordCursor(Buffer.concat([stored, unknown]));
    let n = 0;
    while (c.next()) n++;
    assert.equal(n, 2);
    assert.equal(c.lost, 43);
  });

  it('stops at a record that claims more than its page holds', () => {
    const p = page(0n, [header(0, 1), 5000, 1, 2]);
    let n = 0;
    readPage(p, { onRecord: () => n++, onLost: () => undefined });
    assert.equal(n, 0);
  });
});
