// ARM64: EL0 (the application) or EL1 (ring0 and the Sentry) at each guest exit, on events
// recorded from the real arm64 runsc in the emulated board (test/fixtures/guest-trace: the
// sleep loop under busybox, ET_EXEC at 0x400000, inside runsc's .text) and the instructions
// binutils 2.40's aarch64-linux-gnu-objdump prints for that runsc (arm64-runsc-objdump.txt).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataAbortSyndrome, exitLevel, instructionAccess } from '../../adapter/guest/exceptionLevel';
import { pcMarkerFromFormat, toGuestEvent, type PcMarkers } from '../../adapter/guest/events';
import { parseTraceLine } from '../../adapter/guest/traceLine';
import { GuestAggregate } from '../../adapter/guest/aggregate';
import { buildSummary } from '../../adapter/guest/report';
import { renderSummary } from '../../adapter/guest/render';
import { parseObjdumpLines, SymbolTableNamer, type NamedPc } from '../../adapter/guest/symbolize';
import type { ElfSymbol } from '../../adapter/elf/symbols';
import { repoRoot } from '../support/paths';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'guest-trace');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function arm64Markers(): PcMarkers {
  const markers: PcMarkers = {};
  for (const file of fs.readdirSync(path.join(FIXTURES, 'arm64-6.1-formats'))) {
    const m = pcMarkerFromFormat(fixture(path.join('arm64-6.1-formats', file)));
    if (m !== undefined) markers[file.replace(/\.format$/, '')] = m;
  }
  return markers;
}

function arm64Namer() {
  const table: ElfSymbol[] = fixture('arm64-runsc-symbols.txt')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .map(([a, size, ...name]) => ({ address: BigInt(`0x${a}`), size: Number(size), name: name.join(' ') }))
    .sort((x, y) => (x.address < y.address ? -1 : 1));
  const namer = new SymbolTableNamer('arm64', table);
  const instructions = parseObjdumpLines(fixture('arm64-runsc-objdump.txt'));
  return { name: (pc: string) => namer.name(pc), describe: (pcs: NamedPc[]) => pcs.forEach((p) => (p.instruction = instructions.get(BigInt(p.address)))) };
}

describe('the data abort syndrome (ESR_EL2, kvm_guest_fault\'s hsr)', () => {
  it('reads size, register and direction as the ARM ARM lays them out', () => {
    // 0x93c68047: EC 0x24 (DABT_LOW), ISV, SAS 3, SRT 6, WnR: an 8-byte write from X6.
    assert.deepEqual(dataAbortSyndrome(0x93c68047n), { ec: 0x24, valid: true, bytes: 8, signExtend: false, register: 6, write: true });
    // 0x93000007: a 1-byte read into register 0.
    assert.deepEqual(dataAbortSyndrome(0x93000007n), { ec: 0x24, valid: true, bytes: 1, signExtend: false, register: 0, write: false });
    assert.equal(dataAbortSyndrome(0x92000047n)!.valid, false, 'ISV clear: nothing to compare');
    assert.equal(dataAbortSyndrome(0x5a000000n), undefined, 'an HVC, no data abort');
  });

  it('reads what objdump\'s aarch64 instructions move', () => {
    assert.deepEqual(instructionAccess('strb\tw7, [sp, #91]'), { write: true, bytes: 1, register: 7 });
    assert.deepEqual(instructionAccess('str\tx0, [x9]'), { write: true, bytes: 8, register: 0 });
    assert.deepEqual(instructionAccess('ldrsw x1, [x2, #4]'), { write: false, bytes: 4, register: 1 });
    assert.deepEqual(instructionAccess('strb\twzr, [sp, #31]'), { write: true, bytes: 1, register: 31 });
    assert.equal(instructionAccess('ldp\tx1, x2, [x3]'), undefined, 'a pair: no syndrome describes it');
    assert.equal(instructionAccess('add\tx1, x1, x2, lsl #4'), null, 'no memory access');
    assert.equal(instructionAccess('adrp\tx0, d58000 <type:*+0xc8000>'), null);
  });
});

describe('EL0 or EL1 at each exit of the recorded arm64 runsc', () => {
  const json = JSON.parse(fixture('arm64-runsc-sleep-loop.json')) as { applicationPcs: string[] };

  it('the kernel half is EL1; the lower half outside runsc\'s functions is the application (EL0)', () => {
    assert.equal(exitLevel('arm64', 'upper', true)!.level, 'EL1');
    assert.equal(exitLevel('arm64', 'lower', false)!.level, 'EL0');
    assert.equal(exitLevel('arm64', 'lower', true)!.level, 'EL0 or EL1', 'inside runsc\'s text without a syndrome: cannot tell');
    assert.equal(exitLevel('amd64', 'upper', true), undefined, 'arm64 only');
  });

  it('every data abort at a PC the busybox comparison found to be the application is EL0 or undecided, never EL1; ring0.Halt\'s store is EL1', () => {
    const markers = arm64Markers();
    assert.equal(markers.kvm_guest_fault, 'pc 0x', 'the 0x of %#016lx is part of the marker');
    const namer = arm64Namer();
    const faults = fixture('arm64-runsc-sleep-loop.txt')
      .split('\n')
      .map((l) => parseTraceLine(l))
      .filter((l) => l?.event === 'kvm_guest_fault')
      .map((l) => toGuestEvent(l!, markers));
    assert.equal(faults.length, 17);
    const judged = faults.map((e) => {
      const p = namer.name(e.pc!);
      namer.describe([p]);
      return { pc: `0x${e.pc}`, ...exitLevel('arm64', p.half, p.symbol !== undefined, BigInt(e.detail!), p.instruction)! };
    });
    for (const j of judged) console.log(`${j.pc}: ${j.level}: ${j.why}`);
    const app = judged.filter((j) => json.applicationPcs.includes(j.pc));
    assert.equal(app.length, json.applicationPcs.length, "every application PC of the excerpt had a data abort");
    assert.ok(app.every((j) => j.level !== 'EL1'), 'no application PC is taken for runsc');
    assert.ok(app.filter((j) => j.level === 'EL0').length >= app.length / 2, 'most are told apart by their syndrome');
    const halt = judged.filter((j) => j.pc === '0xa17008');
    assert.ok(halt.length > 0 && halt.every((j) => j.level === 'EL1'), 'ring0.Halt writes the read-only vector page: str x0, [x9], the 8-byte write from X0 the syndrome says');
  });

  it('the summary marks the hot PCs and the CLI text says which are the application\'s', () => {
    const agg = new GuestAggregate();
    const markers = arm64Markers();
    for (const l of fixture('arm64-runsc-sleep-loop.txt').split('\n')) {
      const line = parseTraceLine(l);
      if (line) agg.add(toGuestEvent(line, markers));
    }
    const s = buildSummary(agg, arm64Namer(), { pid: 1, binary: 'runsc', arch: 'arm64', describe: true, hotCount: 40 });
    const byAddress = new Map(s.hot.map((h) => [h.address, h]));
    assert.equal(byAddress.get('0x40498c')?.level, 'EL0');
    assert.equal(byAddress.get('0xa18400')?.level, 'EL1', 'ring0.vectors+0x400, in the kernel half');
    assert.ok(s.hot.every((h) => h.level && h.levelWhy));
    assert.match(renderSummary(s), /0x40498c|LockSet\).InsertRange\+0x3c \[EL0: the application, not this runsc code\]/);
  });
});
