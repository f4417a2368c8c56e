#!/usr/bin/env node
// Generates adapter/arm64/sysregs.generated.ts: the name of every AArch64 system
// register encoding, read with MRS and written with MSR, as two real disassemblers
// print them. It assembles all 32,768 MRS words and all 32,768 MSR words
// (`.inst`, Rt = x0) with binutils' gas, disassembles them with LLVM's llvm-objdump
// (the newest installed) and binutils' objdump, and keeps every name either one
// prints. Where they disagree LLVM wins, and the disagreement is listed.
//
//   node tools/gen-sysregs.mjs            write the table
//   node tools/gen-sysregs.mjs --print    print counts only
// Needs Debian packages binutils-aarch64-linux-gnu and llvm-N (N = 22 here).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(root, 'adapter', 'arm64', 'sysregs.generated.ts');
export const MRS_BASE = 0xd5300000;
export const MSR_BASE = 0xd5100000;
const FIELDS = 1 << 15;
const GENERIC = /^s[0-3]_[0-7]_c\d+_c\d+_[0-7]$/i;

export function newestLlvmObjdump() {
  const versions = fs.readdirSync('/usr/lib').map((d) => /^llvm-(\d+)$/.exec(d)).filter(Boolean).map((m) => Number(m[1]));
  for (const v of versions.sort((a, b) => b - a)) {
    const bin = `/usr/lib/llvm-${v}/bin/llvm-objdump`;
    if (fs.existsSync(bin)) return bin;
  }
  throw new Error('no llvm-objdump found under /usr/lib/llvm-*: apt-get install llvm-22 (or the newest llvm-N)');
}

export const MSR_IMM_BASE = 0xd500401f;

/** MSR (immediate) words for every op1, CRm, op2: index = op1 << 7 | op2 << 4 | CRm. */
export function pstateWords() {
  const words = [];
  for (let op1 = 0; op1 < 8; op1++) for (let op2 = 0; op2 < 8; op2++) for (let crm = 0; crm < 16; crm++) words.push((MSR_IMM_BASE | (op1 << 16) | (crm << 8) | (op2 << 5)) >>> 0);
  return words;
}

/** Assembles words into an object file in dir; returns its path. */
export function assemble(dir, name, words) {
  const source = path.join(dir, `${name}.s`);
  const object = path.join(dir, `${name}.o`);
  fs.writeFileSync(source, ['.text', ...words.map((w) => `.inst 0x${w.toString(16)}`)].join('\n') + '\n');
  execFileSync('aarch64-linux-gnu-as', [source, '-o', object]);
  return object;
}

/** Assembles every MRS and MSR word into one object file; returns its path. */
export function assembleAllWords(dir) {
  const words = [];
  for (let f = 0; f < FIELDS; f++) words.push((MRS_BASE | (f << 5)) >>> 0);
  for (let f = 0; f < FIELDS; f++) words.push((MSR_BASE | (f << 5)) >>> 0);
  return assemble(dir, 'all', words);
}

/**
 * Disassembles the object and returns, per word index (0..65535), the register
 * operand as printed (upper case), or undefined when the line is not an mrs/msr.
 */
export function disassembledNames(tool, args, object) {
  const text = execFileSync(tool, [...args, object], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const names = new Array(2 * FIELDS);
  const line = /^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(\S+)\s*([^/]*)/;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    const index = parseInt(m[1], 16) / 4;
    const [mnemonic, operands] = [m[3].toLowerCase(), m[4].trim()];
    const parts = operands.split(',').map((s) => s.trim());
    if (index < FIELDS && mnemonic === 'mrs') names[index] = parts[1]?.toUpperCase();
    if (index >= FIELDS && mnemonic === 'msr') names[index] = parts[0]?.toUpperCase();
    if (names.pstate && mnemonic === 'msr') names.pstate[index] = parts[0]?.toUpperCase();
  }
  return names;
}

/** LLVM's name for each PSTATE field that MSR (immediate) writes: [op1, op2, CRm mask or -1, name]. */
export function pstateNames(dir, llvm) {
  const object = assemble(dir, 'pstate', pstateWords());
  const text = execFileSync(llvm, ['-d', object], { encoding: 'utf8' });
  const seen = new Map();
  for (const m of text.matchAll(/^\s*([0-9a-f]+):\s+[0-9a-f]{8}\s+msr\s+([A-Za-z0-9_]+),/gm)) {
    const index = parseInt(m[1], 16) / 4;
    const name = m[2].toUpperCase();
    if (GENERIC.test(name) || /^S0_/.test(name)) continue;
    const [op1, op2, crm] = [index >> 7, (index >> 4) & 7, index & 15];
    const key = `${op1}:${op2}:${name}`;
    if (!seen.has(key)) seen.set(key, { op1, op2, name, crms: [] });
    seen.get(key).crms.push(crm);
  }
  // A field that takes any CRm uses it as the immediate; one with a few CRm values encodes part of itself there.
  return [...seen.values()].map((e) => [e.op1, e.op2, e.crms.length === 16 ? -1 : e.crms.reduce((mask, c) => mask | (1 << c), 0), e.name]);
}

export function genericName(f) {
  const op0 = 2 + (f >> 14);
  return `S${op0}_${(f >> 11) & 7}_C${(f >> 7) & 15}_C${(f >> 3) & 15}_${f & 7}`;
}

const named = (n) => n !== undefined && !GENERIC.test(n);

export function buildTable() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysregs-'));
  try {
    const object = assembleAllWords(dir);
    const llvm = newestLlvmObjdump();
    const binutils = 'aarch64-linux-gnu-objdump';
    const fromLlvm = disassembledNames(llvm, ['-d'], object);
    const fromBinutils = disassembledNames(binutils, ['-d'], object);
    const rows = [];
    const disagreements = [];
    for (let f = 0; f < FIELDS; f++) {
      const llvmNames = [fromLlvm[f], fromLlvm[FIELDS + f]].map((n) => (named(n) ? n : ''));
      const binutilsNames = [fromBinutils[f], fromBinutils[FIELDS + f]].map((n) => (named(n) ? n : ''));
      // LLVM knows which direction each register allows (binutils names both regardless),
      // so a register LLVM knows takes both of LLVM's answers; binutils fills in only
      // registers LLVM does not name at all.
      const [mrs, msr] = llvmNames.some(Boolean) ? llvmNames : binutilsNames;
      ['mrs', 'msr'].forEach((direction, i) => {
        if (llvmNames[i] !== binutilsNames[i]) disagreements.push([f, direction, llvmNames[i], binutilsNames[i]]);
      });
      if (mrs || msr) rows.push([f, mrs, msr]);
    }
    const pstate = pstateNames(dir, llvm);
    const version = (tool) => execFileSync(tool, ['--version'], { encoding: 'utf8' }).split('\n').find((l) => /version|Binutils/i.test(l)).trim();
    const source = {
      method: 'all 32768 MRS words (0xd5300000 | field << 5) and 32768 MSR words (0xd5100000 | field << 5), assembled with .inst and disassembled',
      llvm: `${version(llvm)} (${llvm} -d)`,
      binutils: `${version(binutils)} (${binutils} -d)`,
      rule: 'for an encoding LLVM names in either direction, LLVM names in both (its empty direction marks read-only or write-only); binutils names only for encodings LLVM does not name at all',
    };
    return { rows, disagreements, pstate, source };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function render({ rows, disagreements, pstate, source }) {
  const mrsCount = rows.filter((r) => r[1]).length;
  const msrCount = rows.filter((r) => r[2]).length;
  return `// GENERATED by tools/gen-sysregs.mjs: do not edit. Regenerate with \`node tools/gen-sysregs.mjs\`.
// Every AArch64 system register encoding that LLVM's or binutils' disassembler names,
// per direction: ${mrsCount} names read with MRS, ${msrCount} written with MSR.

export const SYSREG_SOURCE = ${JSON.stringify(source, null, 2)} as const;

/** [field, name when read (MRS), name when written (MSR)]; '' where that direction has no name. */
export const SYSREG_ROWS: ReadonlyArray<readonly [number, string, string]> = [
${rows.map((r) => `  [${r[0]}, ${JSON.stringify(r[1])}, ${JSON.stringify(r[2])}],`).join('\n')}
];

/** PSTATE fields written by MSR (immediate), as LLVM names them: [op1, op2, CRm bitmask (-1 = any: CRm is the immediate), name]. */
export const PSTATE_FIELDS: ReadonlyArray<readonly [number, number, number, string]> = [
${pstate.map((p) => `  [${p[0]}, ${p[1]}, ${p[2]}, ${JSON.stringify(p[3])}],`).join('\n')}
];

/** Where the disassemblers disagree: [field, direction, LLVM's name, binutils' name] ('' = no name). */
export const SYSREG_DISAGREEMENTS: ReadonlyArray<readonly [number, 'mrs' | 'msr', string, string]> = [
${disagreements.map((d) => `  [${d[0]}, '${d[1]}', ${JSON.stringify(d[2])}, ${JSON.stringify(d[3])}],`).join('\n')}
];
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = buildTable();
  const counts = `${table.rows.filter((r) => r[1]).length} MRS names, ${table.rows.filter((r) => r[2]).length} MSR names, ${table.disagreements.length} disagreements`;
  if (process.argv.includes('--print')) {
    console.log(counts);
  } else {
    fs.writeFileSync(OUT, render(table));
    console.log(`wrote ${path.relative(root, OUT)}: ${counts}`);
  }
}
