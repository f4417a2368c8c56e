// The round-trip model's judgements about real code (issue 15 part 2), checked on real binaries:
// the vDSOs gVisor ships (pkg/sentry/loader/vdsodata: real ARM64 and amd64 vDSOs with the
// sigreturn trampoline and clock_gettime's system-call fallback) and the pinned runsc for amd64
// and ARM64, with gVisor's source of the same version. Nothing is run.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { isTrampolineAt } from '../../adapter/bluepill/trampoline';
import { classify, diagnose, needsTrampolineCheck, type StopFacts } from '../../adapter/bluepill/stopAnalysis';
import { le32, phasesOf, variantById, type Variant } from '../../adapter/bluepill/model';
import { LandmarkIndex, shortName } from '../../adapter/bluepill/symbols';
import { detectVariant } from '../../adapter/bluepill/detect';
import { runsInGuestMode } from '../../adapter/bluepill/guestCode';
import { SIGNAL_NAMES } from '../../adapter/bluepill/ucontext';
import { DIE_MARKERS, KVM_EXIT_REASONS } from '../../adapter/bluepill/dieMarkers';
import { ENCODINGS, pointerAuthForm } from '../../adapter/bluepill/pointerAuth';
import { parseSections, withElfFile, type ElfInfo } from '../../adapter/elf/sections';
import { readElfFunctions, symbolize, type ElfSymbol } from '../../adapter/elf/symbols';
import { repoRoot } from '../support/paths';
import { GVISOR_VERSION, runscBinaries } from '../support/runsc';

function gvisorSource(): string {
  const dir = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `gvisor.dev/gvisor@${GVISOR_VERSION}`], { encoding: 'utf8', cwd: path.join(repoRoot, 'tools', 'guestcode') })).Dir as string;
  assert.ok(fs.existsSync(dir), `gVisor's source at ${dir}`);
  return dir;
}

/** An ELF file's loaded code, read by address as dlv would read it from memory. */
function codeOf(file: string): { info: ElfInfo; read: (address: bigint, count: number) => Promise<Buffer | undefined> } {
  const bytes = fs.readFileSync(file);
  const info = withElfFile(file, (read) => parseSections(read, file));
  const read = async (address: bigint, count: number) => {
    const s = info.sections.find((x) => x.flags & 4 && address >= x.addr && address + BigInt(count) <= x.addr + BigInt(x.size));
    return s ? bytes.subarray(s.offset + Number(address - s.addr), s.offset + Number(address - s.addr) + count) : undefined;
  };
  return { info, read };
}

/** Every instruction a real disassembler finds matching `mnemonic`, by address. */
function instructionsNamed(objdump: string, file: string, mnemonic: RegExp): bigint[] {
  const out = execFileSync(objdump, ['-d', file], { encoding: 'utf8' });
  return out.split('\n').flatMap((l) => {
    const m = /^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2,8} ?)+\s+(\S+)/.exec(l);
    return m && mnemonic.test(m[2]) ? [BigInt(`0x${m[1]}`)] : [];
  });
}

function dynamicSymbol(nm: string, file: string, name: string): bigint {
  const m = new RegExp(`^([0-9a-f]+) T ${name}\\b`, 'm').exec(execFileSync(nm, ['-D', file], { encoding: 'utf8' }));
  assert.ok(m, `${file} exports ${name}`);
  return BigInt(`0x${m[1]}`);
}

const stop = (f: Partial<StopFacts>): StopFacts => ({ threadId: 1, time: 0, stepped: true, frames: ['???'], pc: 0n, ...f });

describe(`the trampoline is the two-instruction sequence, not any SVC (gVisor ${GVISOR_VERSION}'s vDSOs)`, () => {
  let vdsoDir: string;
  before(() => (vdsoDir = path.join(gvisorSource(), 'pkg', 'sentry', 'loader', 'vdsodata')));

  it('ARM64: only __kernel_rt_sigreturn\'s MOV X8, #139 and SVC are the trampoline; clock_gettime\'s fallback SVC is a system call the host executes', async () => {
    const file = path.join(vdsoDir, 'vdso_arm64.so');
    const { read } = codeOf(file);
    const sigreturn = dynamicSymbol('aarch64-linux-gnu-nm', file, '__kernel_rt_sigreturn');
    const svcs = instructionsNamed('aarch64-linux-gnu-objdump', file, /^svc$/);
    const others = svcs.filter((a) => a !== sigreturn + 4n);
    assert.ok(svcs.includes(sigreturn + 4n), 'the trampoline\'s SVC is among the SVCs objdump finds');
    assert.ok(others.length >= 1, `the vDSO has other SVCs (system-call fallbacks): ${svcs.map((a) => a.toString(16))}`);
    assert.equal(await isTrampolineAt('arm64', sigreturn, read), true, 'MOV X8, #139');
    assert.equal(await isTrampolineAt('arm64', sigreturn + 4n, read), true, 'its SVC');
    const index = new LandmarkIndex(variantById('arm64'));
    for (const pc of others) {
      assert.equal(await isTrampolineAt('arm64', pc, read), false, `the SVC at 0x${pc.toString(16)}`);
      // The stop after the trampoline lands on it: resumed at a system call, not another sigreturn (the old judgement).
      const bytes = (await read(pc, 4))!.toString('hex');
      assert.ok(needsTrampolineCheck(index, '???', { bytes }), 'an unsymbolised SVC is worth the check');
      const f = stop({ pc, instruction: { bytes }, previousPhase: 'sigreturn', trampoline: await isTrampolineAt('arm64', pc, read) });
      const c = classify(index, f);
      assert.equal(c.phase, 'resumed', c.because);
      assert.equal(c.landmark?.role, 'host-syscall');
      assert.match(diagnose(variantById('arm64'), c, f, { syscallNumber: 113n }).map((d) => d.message).join('\n'), /clock_gettime \(113\)/);
    }
  });

  it('amd64: no SYSCALL of the vDSO is a trampoline; runsc\'s runtime.sigreturn__sigaction is one at both instructions', async () => {
    const file = path.join(vdsoDir, 'vdso_amd64.so');
    const { read } = codeOf(file);
    const syscalls = instructionsNamed('objdump', file, /^syscall$/);
    assert.ok(syscalls.length >= 1, 'the amd64 vDSO has system-call fallbacks');
    for (const pc of syscalls) assert.equal(await isTrampolineAt('amd64', pc, read), false, `the SYSCALL at 0x${pc.toString(16)}`);
    const runsc = runscBinaries().amd64;
    const restorer = readElfFunctions(runsc).functions.find((f) => f.name === 'runtime.sigreturn__sigaction.abi0')!;
    const code = codeOf(runsc).read;
    assert.equal(await isTrampolineAt('amd64', restorer.address, code), true, 'MOV RAX, 15');
    assert.equal(await isTrampolineAt('amd64', restorer.address + 7n, code), true, 'SYSCALL');
  });
});

describe(`the trap: only MRS TPIDR_EL1, R10 in kvm.bluepill (runsc ARM64, gVisor ${GVISOR_VERSION})`, () => {
  let functions: ElfSymbol[];
  let text: { addr: bigint; bytes: Buffer };
  before(() => {
    const runsc = runscBinaries().arm64;
    functions = readElfFunctions(runsc).functions;
    const info = withElfFile(runsc, (read) => parseSections(read, runsc));
    const s = info.sections.find((x) => x.name === '.text')!;
    const fd = fs.openSync(runsc, 'r');
    const bytes = Buffer.alloc(s.size);
    fs.readSync(fd, bytes, 0, s.size, s.offset);
    fs.closeSync(fd);
    text = { addr: s.addr, bytes };
  });

  /** The functions in which the word occurs, as code. */
  function whereWord(word: number): string[] {
    const found = new Set<string>();
    for (let i = 0; i + 4 <= text.bytes.length; i += 4) {
      if (text.bytes.readUInt32LE(i) === word) found.add(shortName(symbolize(functions, text.addr + BigInt(i))?.symbol.name ?? '???'));
    }
    return [...found].sort();
  }

  it('the R10 form is in kvm.bluepill alone, and is the trap', () => {
    assert.deepEqual(whereWord(0xd538d08a), ['kvm.bluepill']);
    const c = classify(new LandmarkIndex(variantById('arm64')), stop({ frames: ['gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepill'], instruction: { text: 'MRS $18052, R10', bytes: le32(0xd538d08a) }, previousPhase: 'host' }));
    assert.equal(c.landmark?.role, 'trap-instruction');
  });

  it('the R18 form is only in ring0 code that runs in guest mode; on the host it is diagnosed, not taken for the bluepill', () => {
    const places = whereWord(0xd538d092);
    assert.ok(places.includes('ring0.kernelExitToEl0') && places.includes('ring0.kernelExitToEl1'), places.join(', '));
    for (const name of places) {
      assert.match(name, /^ring0\./);
      assert.equal(runsInGuestMode(name, 'arm64'), true, `${name} runs in guest mode (generated table)`);
    }
    const variant = variantById('arm64');
    const f = stop({ frames: ['gvisor.dev/gvisor/pkg/ring0.kernelExitToEl0'], instruction: { text: 'MRS $18052, R18', bytes: le32(0xd538d092) }, previousPhase: 'host', pc: 0x951fa0n });
    const c = classify(new LandmarkIndex(variant), f);
    assert.equal(c.landmark?.role, 'guest-only-trap', c.because);
    const d = diagnose(variant, c, f, {});
    assert.equal(d[0]?.id, 'guest-code-on-host');
    assert.match(d[0].message, /Something went wrong/);
    assert.match(d[0].message, /reads R8 as the vCPU pointer/);
  });
});

describe(`each variant's texts name only what its gVisor has (runsc ${GVISOR_VERSION})`, () => {
  /** Function names (package.Function) a text mentions, but not where it says there is none ("no kvm.sighandler"). */
  const mentioned = (text: string) => [...text.matchAll(/(?<!\bno )\b(kvm|ring0|sigframe)\.(\(\*\w+\)\.)?[A-Za-z_]\w*/g)].map((m) => m[0]);
  /** Inlined Go functions have no symbol of their own: their declaration in the package's source for the arch. */
  const declared = (name: string, arch: string) => {
    const [pkg, fn] = name.split('.');
    const dir = path.join(gvisorSource(), 'pkg', pkg === 'kvm' ? 'sentry/platform/kvm' : pkg);
    const other = arch === 'arm64' ? '_amd64' : '_arm64';
    return fs.readdirSync(dir).some((f) => f.endsWith('.go') && !f.includes(other) && new RegExp(`^func ${fn}\\(`, 'm').test(fs.readFileSync(path.join(dir, f), 'utf8')));
  };

  for (const [id, arch] of [['arm64', 'arm64'], ['amd64-sigframe', 'amd64']] as const) {
    it(`${id}: every function its phases, landmarks and signal text name is in runsc ${arch}, and detection picks it`, () => {
      const variant: Variant = variantById(id);
      const names = new Set(readElfFunctions(runscBinaries()[arch]).functions.map((f) => shortName(f.name)));
      assert.equal(detectVariant(arch === 'arm64' ? 183 : 62, names)?.id, id);
      const texts = [...phasesOf(variant).map((p) => p.words), variant.foreignSignal, ...variant.landmarks.map((l) => l.words)];
      const missing = [...new Set(texts.flatMap(mentioned))].filter((n) => !names.has(n) && !/^ring0\.(Vectors|Start)$/.test(n) && !declared(n, arch));
      assert.deepEqual(missing, []);
    });
  }

  it('amd64 since 2024 has no kvm.sighandler and no kernel trampoline, and its texts do not claim them', () => {
    const names = new Set(readElfFunctions(runscBinaries().amd64).functions.map((f) => shortName(f.name)));
    assert.equal(names.has('kvm.sighandler'), false);
    assert.equal(names.has('sigframe.retjmp'), true);
    const variant = variantById('amd64-sigframe');
    for (const p of phasesOf(variant)) {
      if (p.phase !== 'sigreturn') assert.doesNotMatch(p.words, /sighandler|vDSO|__kernel_rt_sigreturn/, p.phase);
    }
    assert.match(phasesOf(variant).find((p) => p.phase === 'entering')!.words, /sigframe\.retjmp/);
  });

  it('the signal names the ucontext view decodes the mask with are gVisor\'s (pkg/abi/linux/signal.go)', () => {
    const source = fs.readFileSync(path.join(gvisorSource(), 'pkg', 'abi', 'linux', 'signal.go'), 'utf8');
    for (let n = 1; n < SIGNAL_NAMES.length; n++) assert.match(source, new RegExp(`\\b${SIGNAL_NAMES[n]}\\s*=\\s*Signal\\(${n}\\)`), SIGNAL_NAMES[n]);
  });
});

describe(`the die path and pointer authentication, against gVisor ${GVISOR_VERSION} and binutils`, () => {
  it('the exit reason names are gVisor\'s (kvm_const.go), the markers and their registers are dieArchSetup\'s', () => {
    const kvm = path.join(gvisorSource(), 'pkg', 'sentry', 'platform', 'kvm');
    const consts = fs.readFileSync(path.join(kvm, 'kvm_const.go'), 'utf8');
    for (const [value, name] of Object.entries(KVM_EXIT_REASONS)) assert.match(consts, new RegExp(`\\b_${name}\\s*=\\s*0x${Number(value).toString(16)}\\b`), name);
    const arm64 = fs.readFileSync(path.join(kvm, 'bluepill_arm64_unsafe.go'), 'utf8');
    for (const line of ['context.Regs[9] = context.Pc', 'context.Pc = 0xabc', 'context.Regs[10] = uint64(c.runData.exitReason)', 'context.Regs[14] = c.runData.data[3]', 'context.Regs[1] = uint64(uintptr(unsafe.Pointer(c)))']) assert.ok(arm64.includes(line), line);
    const amd64 = fs.readFileSync(path.join(kvm, 'bluepill_amd64_unsafe.go'), 'utf8');
    assert.match(amd64, /_PANIC_RIP_CPU_DIE\s*=\s*0xabc/);
    assert.match(amd64, /_PANIC_RIP_EXC_CHECK\s*=\s*0xabd/);
    for (const line of ['context.R9 = context.Rip', 'context.R10 = uint64(c.runData.exitReason)', 'context.R14 = c.runData.data[3]', 'context.Rbx = uint64(uintptr(unsafe.Pointer(c)))']) assert.ok(amd64.includes(line), line);
    assert.match(fs.readFileSync(path.join(kvm, 'bluepill_amd64.go'), 'utf8'), /context\.R9 = rip\s+context\.Rip = _PANIC_RIP_EXC_CHECK\s+context\.R10 = vector\s+context\.R11 = faultAddr/);
    assert.deepEqual(DIE_MARKERS, { arm64: { '0xabc': 'exit-reason' }, amd64: { '0xabc': 'exit-reason', '0xabd': 'exception-check' } });
  });

  it('every word the pointer-authentication table matches disassembles to an AUT or combined form, and its neighbours do not match', () => {
    // Words of each family with their free bits filled in several ways, and the same words with one fixed bit flipped.
    const words: number[] = [];
    const flipped: number[] = [];
    for (const e of ENCODINGS) {
      const free = ~e.mask >>> 0;
      for (const fill of [0, 0xffffffff, 0x55555555, 0xaaaaaaaa, 0x12345678]) {
        const w = ((e.value & e.mask) | (fill & free)) >>> 0;
        words.push(w);
        for (let bit = 0; bit < 32; bit++) if ((e.mask >>> bit) & 1) flipped.push((w ^ (1 << bit)) >>> 0);
      }
    }
    const all = [...words, ...flipped];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pac-words-'));
    try {
      const file = path.join(dir, 'words.bin');
      const b = Buffer.alloc(all.length * 4);
      all.forEach((w, i) => b.writeUInt32LE(w, i * 4));
      fs.writeFileSync(file, b);
      const out = execFileSync('aarch64-linux-gnu-objdump', ['-D', '-b', 'binary', '-m', 'aarch64', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const mnemonics = new Map<number, string>();
      for (const l of out.split('\n')) {
        const m = /^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(\S+)/.exec(l);
        if (m) mnemonics.set(parseInt(m[1], 16) / 4, m[3]);
      }
      const AUTH = /^(auti[ab](1716|sp|z)?|aut(d[ab]|i[ab]|iz[ab]|dz[ab])|reta[ab]|ereta[ab]|bra[ab]z?|blra[ab]z?|ldra[ab])$/;
      all.forEach((w, i) => {
        const mnemonic = mnemonics.get(i) ?? '?';
        const matched = pointerAuthForm(le32(w)) !== undefined;
        if (matched) assert.match(mnemonic, AUTH, `0x${w.toString(16)} matched, objdump says ${mnemonic}`);
        else assert.doesNotMatch(mnemonic, AUTH, `0x${w.toString(16)} not matched, objdump says ${mnemonic}`);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
