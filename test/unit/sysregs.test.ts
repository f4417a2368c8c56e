// The register knowledge, as pure functions over the generated table.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseSysreg, SysregParseError } from '../../adapter/arm64/parseSysreg';
import { accessSummary, fieldByName, nameFor, sysregInfo } from '../../adapter/arm64/sysregs';
import { EL0_MEASURED_ON } from '../../adapter/arm64/el0Access';
import { decodeMoveWord, encodeMove, fieldFrom, fieldsOf, genericName, minExceptionLevel } from '../../adapter/arm64/encoding';
import { annotateInstruction } from '../../adapter/arm64/goSyntax';
import { SYSREG_ROWS, SYSREG_SOURCE } from '../../adapter/arm64/sysregs.generated';

const TPIDR_EL1 = 18052;

describe('system register table', () => {
  it('is as complete as the issue asks: ~1,600 MRS and ~1,350 MSR names', () => {
    const mrs = SYSREG_ROWS.filter((r) => r[1]).length;
    const msr = SYSREG_ROWS.filter((r) => r[2]).length;
    assert.ok(mrs >= 1550, `MRS names: ${mrs}`);
    assert.ok(msr >= 1300, `MSR names: ${msr}`);
    assert.match(SYSREG_SOURCE.llvm, /LLVM version \d+/);
    assert.match(SYSREG_SOURCE.binutils, /Binutils/);
  });

  it('knows the direction: 6184 reads as DBGDTRRX_EL0 and writes as DBGDTRTX_EL0', () => {
    assert.equal(nameFor(6184, 'mrs'), 'DBGDTRRX_EL0');
    assert.equal(nameFor(6184, 'msr'), 'DBGDTRTX_EL0');
  });

  it('flags read-only and write-only registers', () => {
    const midr = sysregInfo(fieldByName('MIDR_EL1')!);
    assert.equal(midr.readOnly, true);
    assert.equal(midr.msrName, '');
    assert.equal(nameFor(midr.field, 'msr'), 'S3_0_C0_C0_0', 'an MSR to a read-only register shows the generic name');
    const oslar = sysregInfo(fieldByName('OSLAR_EL1')!);
    assert.equal(oslar.writeOnly, true);
  });

  it('gives every named register a description of its own family, never the fallback', () => {
    const fallbacks = SYSREG_ROWS.filter(([field]) => /^System register /.test(sysregInfo(field).description)).map((r) => r[1] || r[2]);
    assert.deepEqual(fallbacks, []);
    assert.match(sysregInfo(TPIDR_EL1).description, /per-CPU pointer/);
  });

  it('derives the lowest exception level from op1', () => {
    assert.equal(minExceptionLevel(TPIDR_EL1), 1);
    assert.equal(minExceptionLevel(fieldByName('TPIDR_EL0')!), 0);
    assert.equal(minExceptionLevel(fieldByName('HCR_EL2')!), 2);
    assert.equal(minExceptionLevel(fieldByName('SCTLR_EL12')!), 2);
    assert.equal(minExceptionLevel(fieldByName('SCR_EL3')!), 3);
    assert.equal(accessSummary(sysregInfo(TPIDR_EL1)), 'EL1 only: traps at EL0 (SIGILL)');
    // Where Linux differs from what the encoding suggests (measured: el0Access.generated.ts).
    const on = EL0_MEASURED_ON;
    assert.equal(accessSummary(sysregInfo(fieldByName('MIDR_EL1')!)), `EL1 only: at EL0 Linux emulates the read, no SIGILL (measured: ${on})`);
    assert.equal(accessSummary(sysregInfo(fieldByName('DAIF')!)), `EL0 and up by its encoding, but the read raises SIGILL at EL0 (measured: ${on})`);
    assert.equal(accessSummary(sysregInfo(fieldByName('CNTVCT_EL0')!)), `EL0 and up: the read runs at EL0 (measured: ${on})`);
    assert.equal(accessSummary(sysregInfo(fieldByName('TPIDRRO_EL0')!), 'msr'), `EL0 and up by its encoding, but the write raises SIGILL at EL0 (measured: ${on})`);
    assert.match(on, /^Linux \S+ on QEMU's max CPU$/);
    // Names ending in _ELn agree with the op1 rule, except SP_ELn: the stack pointer *of* ELn,
    // which only the level above may move (SP_EL0 from EL1).
    assert.equal(minExceptionLevel(fieldByName('SP_EL0')!), 1);
    for (const [field, mrs, msr] of SYSREG_ROWS) {
      const name = mrs || msr;
      const m = /_EL([0-3])$/.exec(name);
      if (m && !name.startsWith('SP_EL')) assert.equal(minExceptionLevel(field), Number(m[1]), name);
    }
  });

  it('encodes and decodes fields and words', () => {
    assert.deepEqual(fieldsOf(TPIDR_EL1), { op0: 3, op1: 0, crn: 13, crm: 0, op2: 4 });
    assert.equal(fieldFrom({ op0: 3, op1: 0, crn: 13, crm: 0, op2: 4 }), TPIDR_EL1);
    assert.equal(genericName(TPIDR_EL1), 'S3_0_C13_C0_4');
    assert.equal(encodeMove('mrs', TPIDR_EL1, 18), 0xd538d092);
    assert.deepEqual(decodeMoveWord(0xd538d092), { kind: 'mrs', field: TPIDR_EL1, rt: 18 });
    assert.deepEqual(decodeMoveWord(0xd518d08a), { kind: 'msr', field: TPIDR_EL1, rt: 10 });
    assert.deepEqual(decodeMoveWord(0xd50342df), { kind: 'msr-imm', op1: 3, op2: 6, crm: 2 });
    assert.equal(decodeMoveWord(0xd503201f), undefined, 'NOP is not a register move');
  });
});

describe('parseSysreg: one decoder for every spelling', () => {
  const spellings: Array<[string, Partial<ReturnType<typeof parseSysreg>>]> = [
    ['$18052', { kind: 'sysreg', field: TPIDR_EL1 }],
    ['18052', { kind: 'sysreg', field: TPIDR_EL1 }],
    ['S3_0_C13_C0_4', { kind: 'sysreg', field: TPIDR_EL1 }],
    ['s3_0_c13_c0_4', { kind: 'sysreg', field: TPIDR_EL1 }],
    ['TPIDR_EL1', { kind: 'sysreg', field: TPIDR_EL1 }],
    ['tpidr_el1', { kind: 'sysreg', field: TPIDR_EL1 }],
    ['0xd538d092', { kind: 'sysreg', field: TPIDR_EL1, direction: 'mrs', rt: 18 }],
    ['92d038d5', { kind: 'sysreg', field: TPIDR_EL1, direction: 'mrs', rt: 18 }],
    ['MRS $18052, R18', { kind: 'sysreg', field: TPIDR_EL1, direction: 'mrs', rt: 18 }],
    ['MSR R10, S3_0_C13_C0_4', { kind: 'sysreg', field: TPIDR_EL1, direction: 'msr', rt: 10 }],
    ['mrs x18, tpidr_el1', { kind: 'sysreg', field: TPIDR_EL1, direction: 'mrs', rt: 18 }],
    ['msr tpidr_el1, x10', { kind: 'sysreg', field: TPIDR_EL1, direction: 'msr', rt: 10 }],
    ['MSR $2, DAIFSet', { kind: 'pstate', name: 'DAIFSET', imm: 2 }],
    // Bare, dlv's bytes; where the digits are an MRS/MSR as a word too, that reading is kept for the caller to say.
    ['d53011d5', { kind: 'sysreg', field: 2438, direction: 'msr', rt: 21, alsoAsWord: 0xd53011d5 }],
    ['df4203d5', { kind: 'pstate', name: 'DAIFSET', imm: 2 }],
  ];
  for (const [text, expected] of spellings) {
    it(text, () => {
      const parsed = parseSysreg(text);
      for (const [k, v] of Object.entries(expected)) assert.equal((parsed as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it('says what it accepts when it cannot read a value', () => {
    assert.throws(() => parseSysreg('TPIDR_EL9'), (e: Error) => e instanceof SysregParseError && /a name like TPIDR_EL1/.test(e.message));
    assert.throws(() => parseSysreg('40000'), SysregParseError, 'fields are 15 bits');
    assert.throws(() => parseSysreg('0xd503201f'), /not an MRS or MSR instruction/);
  });
});

describe('annotateInstruction (Go syntax, as dlv and go tool objdump print it)', () => {
  const cases: Array<[string, string | undefined]> = [
    ['MRS $18052, R18', 'MRS TPIDR_EL1, R18  // $18052 · EL1 only'],
    ['MSR R10, S3_0_C13_C0_4', 'MSR R10, TPIDR_EL1  // S3_0_C13_C0_4 · EL1 only'],
    ['MRS $24322, R0', 'MRS CNTVCT_EL0, R0  // $24322 · EL0'],
    ['MSR R1, S2_3_C0_C5_0', 'MSR R1, DBGDTRTX_EL0  // S2_3_C0_C5_0 · EL0'],
    // EL0's by its encoding, but Linux traps EL0's reads of it (el0Access.generated.ts).
    ['MRS $6184, R1', 'MRS DBGDTRRX_EL0, R1  // $6184 · EL0, SIGILL on Linux'],
    ['MRS $16384, R0', 'MRS MIDR_EL1, R0  // $16384 · EL1 only, emulated at EL0 by Linux'],
    ['MSR R0, S3_0_C0_C0_0', 'MSR R0, S3_0_C0_C0_0  // EL1 only · read-only register'],
    ['MSR $2, DAIFSet', 'MSR $2, DAIFSet  // mask I · SIGILL on Linux'],
    ['MSR $3, DAIFClr', 'MSR $3, DAIFClr  // unmask IF · SIGILL on Linux'],
    ['MOVD R1, R2', undefined],
    ['MRS TPIDR_EL1, R18  // $18052 · EL1 only', undefined],
  ];
  for (const [input, expected] of cases) it(input, () => assert.equal(annotateInstruction(input), expected));
});
