// gVisor's real runsc for arm64, statically: every landmark of the ARM64 model is in
// the binary (by symbol and by instruction), annotate names every MRS/MSR of its
// kvm and ring0 code as binutils does, and explain --binary gives the right role
// and phase at the round trip's key instructions.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readElfFunctions, type ElfSymbol } from '../../adapter/elf/symbols';
import { variantById } from '../../adapter/bluepill/model';
import { shortName } from '../../adapter/bluepill/symbols';
import { decodeMoveWord } from '../../adapter/arm64/encoding';
import { cliBundle } from '../support/paths';
import { functionCode, GVISOR_VERSION, runscBinaries } from '../support/runsc';

const RING0 = 'gvisor.dev/gvisor/pkg/ring0';
const KVM = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';
/** Landmarks recognised in memory, not in the binary: the kernel's vDSO trampoline. */
const NOT_IN_BINARY = new Set(['__kernel_rt_sigreturn']);

describe(`runsc ${GVISOR_VERSION} for arm64, statically`, () => {
  let runsc: string;
  let functions: ElfSymbol[];
  let words: (fn: ElfSymbol) => number[];
  const fn = (name: string) => {
    const f = functions.find((s) => s.name === name || s.name === `${name}.abi0`);
    assert.ok(f, `${name} is in runsc`);
    return f;
  };
  const explain = (address: bigint) => JSON.parse(execFileSync(process.execPath, [cliBundle, 'explain', '--binary', runsc, `0x${address.toString(16)}`, '--json'], { encoding: 'utf8' }));

  before(() => {
    runsc = runscBinaries().arm64;
    const elf = readElfFunctions(runsc);
    functions = elf.functions;
    const text = elf.info.sections.find((s) => s.name === '.text')!;
    words = (f) => {
      const code = functionCode(runsc, text.addr, text.offset, f.address, f.size);
      return Array.from({ length: Math.floor(code.length / 4) }, (_, i) => code.readUInt32LE(i * 4));
    };
  });

  it('has every landmark of the ARM64 model, by symbol', () => {
    const names = new Set(functions.map((f) => shortName(f.name)));
    const missing = variantById('arm64').landmarks.flatMap((l) => (l.symbols ?? []).filter((s) => !NOT_IN_BINARY.has(s) && !names.has(s)).map((s) => `${l.role}: ${s}`));
    assert.deepEqual(missing, [], `gVisor renamed or removed: ${missing.join(', ')}`);
  });

  it('has the trap instruction where the model says, by instruction pattern', () => {
    assert.ok(words(fn(`${KVM}.bluepill`)).includes(0xd538d08a), 'kvm.bluepill holds MRS TPIDR_EL1, R10 (0xd538d08a)');
    assert.equal(words(fn(`${RING0}.kernelExitToEl0`))[0], 0xd538d092, 'ring0.kernelExitToEl0 starts with MRS TPIDR_EL1, R18');
    assert.equal(words(fn(`${RING0}.kernelExitToEl1`))[0], 0xd538d092, 'ring0.kernelExitToEl1 starts with MRS TPIDR_EL1, R18');
    assert.ok(words(fn(`${KVM}.sighandler`)).some((w) => w === 0xd65f03c0), 'kvm.sighandler returns (RET) into the trampoline');
  });

  it('annotate names every MRS/MSR in kvm and ring0 as binutils names the same words', () => {
    const listing = execFileSync('go', ['tool', 'objdump', '-s', 'kvm\\.|ring0\\.', runsc], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const annotated = execFileSync(process.execPath, [cliBundle, 'annotate'], { input: listing, encoding: 'utf8', maxBuffer: 1 << 30 });
    const moves: Array<{ word: number; ours: string }> = [];
    for (const line of annotated.split('\n')) {
      const m = /\t([0-9a-f]{8})\t+(MRS (\S+), (?:R\d+|ZR)|MSR (?:R\d+|ZR), (\S+))  \/\/ /.exec(line);
      if (m) moves.push({ word: parseInt(m[1], 16), ours: m[3] ?? m[4] });
    }
    const raw = listing.split('\n').filter((l) => /\t(MRS \S+, (R\d+|ZR)|MSR (R\d+|ZR), \S+)\s*$/.test(l)).length;
    assert.ok(moves.length >= 20, `found ${moves.length} annotated system register moves`);
    assert.equal(moves.length, raw, 'every MRS/MSR (register) line of the listing carries a name');
    // binutils on exactly these words.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runsc-moves-'));
    fs.writeFileSync(path.join(dir, 'm.s'), `.text\n${moves.map((m) => `.inst 0x${m.word.toString(16)}`).join('\n')}\n`);
    execFileSync('aarch64-linux-gnu-as', [path.join(dir, 'm.s'), '-o', path.join(dir, 'm.o')]);
    const dump = execFileSync('aarch64-linux-gnu-objdump', ['-d', path.join(dir, 'm.o')], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    const theirs = [...dump.matchAll(/^\s*[0-9a-f]+:\s+[0-9a-f]{8}\s+(mrs|msr)\s+([^\n]*)$/gm)].map((m) => {
      const ops = m[2].split('//')[0].split(',').map((s) => s.trim().toUpperCase());
      return m[1] === 'mrs' ? ops[1] : ops[0];
    });
    assert.equal(theirs.length, moves.length);
    const differ = moves.map((m, i) => ({ ...m, binutils: theirs[i] })).filter((m) => m.ours !== m.binutils && decodeMoveWord(m.word));
    assert.deepEqual(differ, []);
  });

  it('explain --binary: the trapping MRS in kvm.bluepill', () => {
    const f = fn(`${KVM}.bluepill`);
    const at = f.address + BigInt(words(f).indexOf(0xd538d08a) * 4);
    const e = explain(at);
    assert.match(e.where, /kvm\.bluepill\+0x/);
    assert.equal(e.instruction, 'MRS TPIDR_EL1, R10  // $18052 · EL1 only');
    assert.deepEqual([e.landmark.role, e.landmark.phase], ['trap-instruction', 'entering']);
  });

  it('explain --binary: the MRS TPIDR_EL1 in ring0.kernelExitToEl0', () => {
    const e = explain(fn(`${RING0}.kernelExitToEl0`).address);
    assert.equal(e.where, `${RING0}.kernelExitToEl0`);
    assert.equal(e.instruction, 'MRS TPIDR_EL1, R18  // $18052 · EL1 only');
    // Not the bluepill's trap: ring0's guest-only exit path (issue 15 part 2).
    assert.deepEqual([e.landmark.role, e.landmark.phase], ['kernel-exit', 'in-guest']);
  });

  it('explain --binary: the CALL to it in ring0.(*CPU).SwitchToUser', () => {
    const switchToUser = fn(`${RING0}.(*CPU).SwitchToUser`);
    const target = fn(`${RING0}.kernelExitToEl0`).address;
    const index = words(switchToUser).findIndex((w, i) => (w & 0xfc000000) >>> 0 === 0x94000000 && switchToUser.address + BigInt(i * 4) + BigInt.asIntN(28, BigInt(((w & 0x3ffffff) << 2) >>> 0)) === target);
    assert.ok(index >= 0, 'SwitchToUser calls kernelExitToEl0');
    const e = explain(switchToUser.address + BigInt(index * 4));
    assert.equal(e.instruction, `CALL ${RING0}.kernelExitToEl0(SB)`);
    assert.deepEqual([e.landmark.role, e.landmark.phase], ['switch-to-user', 'host']);
    assert.ok(e.pitfalls.some((p: string) => /unsafe/.test(p)));
  });

  it('explain --binary: the entry and the return of kvm.sighandler', () => {
    const handler = fn(`${KVM}.sighandler`);
    for (const at of [handler.address, handler.address + BigInt(words(handler).indexOf(0xd65f03c0) * 4)]) {
      const e = explain(at);
      assert.match(e.where, /kvm\.sighandler/);
      assert.deepEqual([e.landmark.role, e.landmark.phase], ['sighandler', 'trapped']);
    }
    assert.equal(explain(handler.address + BigInt(words(handler).indexOf(0xd65f03c0) * 4)).instruction, 'RET');
  });
});
