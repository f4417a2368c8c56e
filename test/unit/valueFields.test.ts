import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeCurrentEl, decodeEsr, decodePstate, decodeSctlr, valueDecoderFor } from '../../adapter/arm64/valueFields';

describe('register value fields', () => {
  it('PSTATE tells host EL0 from guest EL1', () => {
    assert.match(decodePstate(0x80000000n).summary, /^EL0t · NZCV N · DAIF masked none · host user space/);
    assert.match(decodePstate(0x3c5n).summary, /^EL1h · NZCV - · DAIF masked DAIF · kernel level \(EL1\): inside the KVM guest/);
    assert.match(decodePstate(0x60000004n).summary, /^EL1t · NZCV ZC/);
  });

  it('ESR_EL1 names the exception class', () => {
    const svc = decodeEsr(0x56000000n);
    assert.match(svc.summary, /EC 0x15: SVC from AArch64/);
    assert.equal(svc.fields.find((f) => f.name === 'imm16')?.value, '0x0');
    const abort = decodeEsr(0x92000047n);
    assert.match(abort.summary, /data abort from a lower level/);
    assert.equal(abort.fields.find((f) => f.name === 'FSC')?.meaning, 'translation fault, level 3');
    assert.equal(abort.fields.find((f) => f.name === 'WnR')?.meaning, 'write');
    const trapped = decodeEsr((0x18n << 26n) | (3n << 20n) | (13n << 10n) | 1n | (4n << 17n));
    assert.match(trapped.fields.find((f) => f.name === 'sysreg')!.value, /^S3_0_C13_C0_4$/);
  });

  it('CurrentEL and SCTLR_EL1', () => {
    assert.equal(decodeCurrentEl(0x4n).summary, 'EL1');
    assert.equal(decodeSctlr(0x1005n).summary, 'set: M C I');
  });

  it('finds a decoder by register name', () => {
    assert.ok(valueDecoderFor('SPSR_EL1'));
    assert.ok(valueDecoderFor('esr_el2'));
    assert.equal(valueDecoderFor('TPIDR_EL1'), undefined);
  });
});
