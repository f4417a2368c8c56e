import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeCurrentEl, decodeEsr, decodeMidr, decodePstate, decodeSctlr, EXCEPTION_CLASSES, valueDecoderFor } from '../../adapter/arm64/valueFields';
import { SYSREG_FIELDS_SOURCE, SYSREG_LAYOUTS } from '../../adapter/arm64/sysregFields.generated';
import { sysregMarkdown } from '../../adapter/arm64/sysregMarkdown';
import { parseSysreg } from '../../adapter/arm64/parseSysreg';

const field = (d: { fields: { name: string; value: string; meaning?: string }[] }, name: string) => d.fields.find((f) => f.name === name);

describe('register value fields', () => {
  it('PSTATE tells host EL0 from guest EL1', () => {
    assert.match(decodePstate(0x80000000n).summary, /^EL0t · NZCV N · DAIF masked none · host user space/);
    assert.match(decodePstate(0x3c5n).summary, /^EL1h · NZCV - · DAIF masked DAIF · kernel level \(EL1\): inside the KVM guest/);
    assert.match(decodePstate(0x60000004n).summary, /^EL1t · NZCV ZC/);
    // Linux's PSR_* bits, including the software-step bit from debug-monitors.h.
    assert.equal(field(decodePstate(1n << 21n), 'SS')?.value, '1');
    assert.equal(field(decodePstate(0x400000n), 'PAN')?.value, '1');
    assert.match(field(decodePstate(0x800n), 'BTYPE')?.meaning ?? '', /^C \(bits 11:10\)/);
  });

  it('a PSTATE saved from AArch32 (M[4] set, as CPSR 0x2d0): NZCV and the mode only, never the AArch64 fields at AArch32 bits', () => {
    const d = decodePstate(0x600002d0n, 'CPSR');
    assert.equal(d.summary, 'AArch32 mode 0x10 · NZCV ZC · the other bits in the AArch32 layout, not decoded');
    assert.deepEqual(d.fields.map((f) => f.name), ['M', 'NZCV']);
  });

  it('ESR_EL1 names every exception class as the kernel does', () => {
    const svc = decodeEsr(0x56000000n);
    assert.match(svc.summary, /EC 0x15: SVC \(AArch64\)/);
    assert.equal(field(svc, 'imm16')?.value, '0x0');
    const abort = decodeEsr(0x92000047n);
    assert.match(abort.summary, /EC 0x24: DABT \(lower EL\)/);
    assert.equal(field(abort, 'FSC')?.meaning, 'translation fault, level 3');
    assert.equal(field(abort, 'WnR')?.meaning, 'write');
    assert.match(decodeEsr(0xf2000000n).summary, /EC 0x3c: BRK \(AArch64\)/);
    assert.match(decodeEsr(0x72000000n).summary, /EC 0x1c: FPAC/);
    const trapped = decodeEsr((0x18n << 26n) | (3n << 20n) | (13n << 10n) | 1n | (4n << 17n));
    assert.match(field(trapped, 'sysreg')!.value, /^S3_0_C13_C0_4$/);
    for (let ec = 0; ec < 64; ec++) assert.ok(EXCEPTION_CLASSES[ec], `EC 0x${ec.toString(16)} has a name`);
    assert.equal(EXCEPTION_CLASSES[0x02], 'UNRECOGNIZED EC', "traps.c's name for a class esr.h does not define");
  });

  it('CurrentEL and SCTLR_EL1, with every pointer-authentication enable', () => {
    assert.equal(decodeCurrentEl(0x4n).summary, 'EL1');
    assert.equal(decodeSctlr(0x1005n).summary, 'set: M C I');
    const pac = decodeSctlr((1n << 31n) | (1n << 30n) | (1n << 27n) | (1n << 13n));
    assert.equal(pac.summary, 'set: EnDB EnDA EnIB EnIA');
  });

  it('TCR_EL1, TTBRn_EL1 and ID_AA64ISAR1_EL1 from the layouts Linux describes', () => {
    // TCR_EL1 of a 48-bit VA, 4K granule kernel: T0SZ = T1SZ = 16, TG1 = 4K (0b10), IPS 0b101.
    const tcr = valueDecoderFor('TCR_EL1')!((16n) | (16n << 16n) | (2n << 30n) | (5n << 32n) | (1n << 36n));
    assert.equal(field(tcr, 'T0SZ')?.value, '0x10');
    assert.match(field(tcr, 'TG1')?.meaning ?? '', /^4K /);
    assert.match(field(tcr, 'TG0')?.meaning ?? '', /^4K /);
    assert.equal(field(tcr, 'IPS')?.value, '5');
    assert.equal(field(tcr, 'ASID16')?.value, '1');
    const ttbr = valueDecoderFor('TTBR1_EL1')!(0x002a_0000_4123_4000n | 1n);
    assert.equal(field(ttbr, 'ASID')?.value, '0x2a');
    assert.equal(field(ttbr, 'BADDR')?.value, `0x${(0x41234000n >> 1n).toString(16)}`);
    assert.equal(field(ttbr, 'CnP')?.value, '1');
    // ID_AA64ISAR1_EL1 of a CPU with FEAT_PAuth2 + FEAT_FPAC (API = 0b0100) and GPI.
    const isar1 = valueDecoderFor('ID_AA64ISAR1_EL1')!((4n << 8n) | (1n << 28n));
    assert.match(field(isar1, 'API')?.meaning ?? '', /^FPAC /);
    assert.match(field(isar1, 'APA')?.meaning ?? '', /^NI /);
    assert.match(isar1.summary, /API=FPAC/);
  });

  it('MIDR_EL1 names the implementer and the part (cputype.h)', () => {
    // A Raspberry Pi 4: Cortex-A72 r0p3 (0x410fd083).
    const pi = decodeMidr(0x410fd083n);
    assert.equal(pi.summary, 'ARM CORTEX_A72 r0p3');
    assert.equal(field(pi, 'IMPLEMENTOR')?.meaning, 'ARM');
    assert.match(decodeMidr(0x00000000n).summary, /^implementer 0x0 part 0x0/);
  });

  it('finds a decoder by register name, for every register Linux describes', () => {
    assert.ok(valueDecoderFor('SPSR_EL1'));
    assert.ok(valueDecoderFor('esr_el2'));
    assert.ok(valueDecoderFor('SCTLR_EL12'));
    assert.ok(valueDecoderFor('TPIDR_EL1'), 'tools/sysreg describes TPIDR_EL1 (ThreadID)');
    assert.equal(valueDecoderFor('TPIDR_EL0'), undefined, 'not described there');
    assert.ok(Object.keys(SYSREG_LAYOUTS).length > 150);
    assert.match(SYSREG_FIELDS_SOURCE.version, /^6\.12\./);
  });

  it('the hover names the fields of a register Linux describes, and says where the layout comes from', () => {
    const ttbr = parseSysreg('TTBR0_EL1');
    assert.equal(ttbr.kind, 'sysreg');
    const md = sysregMarkdown(ttbr.kind === 'sysreg' ? ttbr.field : 0, 'mrs');
    assert.ok(md.includes(`Fields (Linux ${SYSREG_FIELDS_SOURCE.version}, arch/arm64/tools/sysreg): ASID 63:48 · BADDR 47:1 · CnP 0`), md);
    const tcr = parseSysreg('TCR_EL1');
    assert.match(sysregMarkdown(tcr.kind === 'sysreg' ? tcr.field : 0, 'msr'), /Fields \(Linux [^,]+, arch\/arm64\/include\/asm\/pgtable-hwdef\.h\): .*TG1 31:30/);
  });
});
