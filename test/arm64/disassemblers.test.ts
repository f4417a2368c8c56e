// The register table against the real disassemblers, on all 65,536 MRS and MSR
// words: LLVM's llvm-objdump (the newest installed) and binutils' objdump. This is
// an independent re-reading, not the generator's code.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { encodeMove, genericName } from '../../adapter/arm64/encoding';
import { nameFor } from '../../adapter/arm64/sysregs';

const FIELDS = 1 << 15;
const GENERIC = /^S[23]_\d_C\d+_C\d+_\d$/;

function newestLlvmObjdump(): string {
  const versions = fs.readdirSync('/usr/lib').map((d) => /^llvm-(\d+)$/.exec(d)?.[1]).filter(Boolean).map(Number).sort((a, b) => b - a);
  const found = versions.map((v) => `/usr/lib/llvm-${v}/bin/llvm-objdump`).find((p) => fs.existsSync(p));
  if (!found) throw new Error('no llvm-objdump: scripts/setup.sh installs llvm-22');
  return found;
}

/** Operand names per word index (MRS words 0..32767, then MSR words), upper case. */
function disassemble(tool: string, object: string): string[] {
  const out = execFileSync(tool, ['-d', object], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const names: string[] = new Array(2 * FIELDS).fill('');
  for (const m of out.matchAll(/^\s*([0-9a-f]+):\s+[0-9a-f]{8}\s+(mrs|msr)\s+([^\n]*)$/gm)) {
    const index = parseInt(m[1], 16) / 4;
    const ops = m[3].split('//')[0].split(',').map((s) => s.trim().toUpperCase());
    names[index] = m[2] === 'mrs' ? ops[1] : ops[0];
  }
  return names;
}

describe('system register names against real disassemblers (65,536 words)', () => {
  let llvm: string[];
  let binutils: string[];

  before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysreg-words-'));
    try {
      const words: string[] = [];
      for (const kind of ['mrs', 'msr'] as const) for (let f = 0; f < FIELDS; f++) words.push(`.inst 0x${encodeMove(kind, f).toString(16)}`);
      fs.writeFileSync(path.join(dir, 'w.s'), `.text\n${words.join('\n')}\n`);
      execFileSync('aarch64-linux-gnu-as', [path.join(dir, 'w.s'), '-o', path.join(dir, 'w.o')]);
      llvm = disassemble(newestLlvmObjdump(), path.join(dir, 'w.o'));
      binutils = disassemble('aarch64-linux-gnu-objdump', path.join(dir, 'w.o'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('both tools decoded every word as MRS or MSR', () => {
    assert.equal(llvm.filter((n) => n === '').length, 0);
    assert.equal(binutils.filter((n) => n === '').length, 0);
  });

  it('names every encoding LLVM names, as LLVM names it, in each direction', () => {
    const wrong: string[] = [];
    for (let i = 0; i < 2 * FIELDS; i++) {
      const [field, direction] = [i % FIELDS, i < FIELDS ? ('mrs' as const) : ('msr' as const)];
      if (!GENERIC.test(llvm[i]) && nameFor(field, direction) !== llvm[i]) wrong.push(`${direction} ${field}: LLVM ${llvm[i]}, table ${nameFor(field, direction)}`);
    }
    assert.deepEqual(wrong.slice(0, 20), []);
  });

  it('names the encodings only binutils knows, and leaves unnamed what neither names', () => {
    const wrong: string[] = [];
    for (let field = 0; field < FIELDS; field++) {
      const llvmKnows = !GENERIC.test(llvm[field]) || !GENERIC.test(llvm[FIELDS + field]);
      if (llvmKnows) continue;
      for (const [i, direction] of [[field, 'mrs'], [FIELDS + field, 'msr']] as const) {
        const expected = GENERIC.test(binutils[i]) ? genericName(field) : binutils[i];
        if (nameFor(field, direction) !== expected) wrong.push(`${direction} ${field}: binutils ${binutils[i]}, table ${nameFor(field, direction)}`);
      }
    }
    assert.deepEqual(wrong.slice(0, 20), []);
  });

  it('reads 6184 as DBGDTRRX_EL0 and writes it as DBGDTRTX_EL0, as both tools do', () => {
    assert.equal(llvm[6184], 'DBGDTRRX_EL0');
    assert.equal(llvm[FIELDS + 6184], 'DBGDTRTX_EL0');
    assert.equal(binutils[6184], 'DBGDTRRX_EL0');
    assert.equal(nameFor(6184, 'mrs'), 'DBGDTRRX_EL0');
    assert.equal(nameFor(6184, 'msr'), 'DBGDTRTX_EL0');
  });
});
