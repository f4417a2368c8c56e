#!/usr/bin/env node
// Generates adapter/arm64/sysregFields.generated.ts: the field layouts and enumerations of the
// ARM64 system registers, from the Linux kernel's own description, in Debian's linux-source-6.12
// package (downloaded with `apt-get download` into .cache/linux-source/, only these files read):
//   arch/arm64/tools/sysreg            every register it describes (Sysreg/SysregFields blocks)
//   arch/arm64/include/asm/pgtable-hwdef.h   TCR_EL1 (TCR_* defines; not in tools/sysreg in 6.12)
//   arch/arm64/include/asm/cputype.h         MIDR_EL1 layout, implementer and part numbers
//   arch/arm64/include/asm/esr.h             ESR_ELx layout and exception class numbers
//   arch/arm64/kernel/traps.c                esr_class_str: the kernel's name of each class
//   arch/arm64/include/uapi/asm/ptrace.h     PSTATE/SPSR bits (PSR_*)
//   arch/arm64/include/asm/ptrace.h          PSTATE bits the uapi header leaves out (PSR_IL, ...)
//   arch/arm64/include/asm/debug-monitors.h  PSTATE.SS (DBG_SPSR_SS)
//
//   node tools/gen-sysreg-fields.mjs          # LINUX_SOURCE_VERSION=... to pick another version
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = 'linux-source-6.12';
const VERSION = process.env.LINUX_SOURCE_VERSION ?? '6.12.117-1~deb12u1';
const FILES = {
  sysreg: 'arch/arm64/tools/sysreg',
  hwdef: 'arch/arm64/include/asm/pgtable-hwdef.h',
  cputype: 'arch/arm64/include/asm/cputype.h',
  esr: 'arch/arm64/include/asm/esr.h',
  traps: 'arch/arm64/kernel/traps.c',
  uapiPtrace: 'arch/arm64/include/uapi/asm/ptrace.h',
  ptrace: 'arch/arm64/include/asm/ptrace.h',
  debugMonitors: 'arch/arm64/include/asm/debug-monitors.h',
};

function sources() {
  const cache = path.join(root, '.cache', 'linux-source');
  const dir = path.join(cache, VERSION);
  const missing = Object.values(FILES).filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) {
    fs.mkdirSync(cache, { recursive: true });
    const deb = path.join(cache, `${PACKAGE}_${VERSION.replace(/:/g, '%3a')}_all.deb`);
    if (!fs.existsSync(deb)) {
      try {
        execFileSync('apt-get', ['download', `${PACKAGE}=${VERSION}`], { cwd: cache, stdio: 'inherit' });
      } catch {
        console.error(`gen-sysreg-fields: apt-get could not download ${PACKAGE}=${VERSION}. Run apt-get update, or set LINUX_SOURCE_VERSION to a version \`apt-cache policy ${PACKAGE}\` lists (Debian bookworm-security carries it).`);
        process.exit(1);
      }
    }
    fs.mkdirSync(dir, { recursive: true });
    // The package holds usr/src/linux-source-6.12.tar.xz; take only the files above out of it.
    const members = Object.values(FILES).map((f) => `${PACKAGE}/${f}`);
    const script = `deb="$1"; dir="$2"; shift 2; dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/${PACKAGE}.tar.xz | tar -xJ --strip-components=1 -C "$dir" "$@"`;
    execFileSync('sh', ['-c', script, 'sh', deb, dir, ...members], { stdio: 'inherit' });
  }
  return Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

// --- arch/arm64/tools/sysreg -------------------------------------------------------------------
function parseSysreg(text) {
  const shared = new Map();
  const registers = {};
  let current; // { fields: [] }
  let enumOf;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [word, ...rest] = line.split(/\s+/);
    if (enumOf) {
      if (word === 'EndEnum') enumOf = undefined;
      else enumOf[4][word.startsWith('0b') ? parseInt(word.slice(2), 2) : Number(word)] = rest[0];
      continue;
    }
    switch (word) {
      case 'Sysreg':
        current = { enc: rest.slice(1, 6).map(Number), fields: [] };
        registers[rest[0]] = current;
        break;
      case 'SysregFields':
        current = { fields: [] };
        shared.set(rest[0], current);
        break;
      case 'EndSysreg':
      case 'EndSysregFields':
        current = undefined;
        break;
      case 'Fields':
        current.fields.push(...shared.get(rest[0]).fields);
        break;
      case 'Field':
      case 'Enum':
      case 'UnsignedEnum':
      case 'SignedEnum': {
        const [msb, lsb = msb] = rest[0].split(':').map(Number);
        const field = [msb, lsb, rest[1]];
        if (word !== 'Field') {
          field.push(undefined, {});
          enumOf = field;
        }
        current.fields.push(field);
        break;
      }
      case 'Res0':
      case 'Res1':
      case 'Unkn':
      case 'Raz':
      case 'Mapping':
        break; // reserved bits carry no name
      default:
        throw new Error(`${FILES.sysreg}: unknown line "${line}"`);
    }
  }
  for (const reg of Object.values(registers)) reg.fields = reg.fields.map(([msb, lsb, name, , values]) => (values ? [msb, lsb, name, values] : [msb, lsb, name]));
  return registers;
}

// --- C headers: #define NAME expression ---------------------------------------------------------
function defines(...texts) {
  const out = new Map();
  for (const text of texts) {
    for (const m of text.replace(/\\\n/g, ' ').matchAll(/^#define\s+(\w+)\s+(.+)$/gm)) {
      out.set(m[1], m[2].replace(/\/\*.*?\*\//g, '').trim());
    }
  }
  return out;
}

/** Evaluates a constant C expression of the kernel's headers (numbers, | & << >> + - ~, UL(), GENMASK()). */
function evaluate(expr, defs, depth = 0) {
  if (depth > 20) return undefined;
  const tokens = expr.match(/0[xX][0-9a-fA-F]+[uUlL]*|0b[01]+|\d+[uUlL]*|\w+|<<|>>|[()|&~+\-,]/g);
  if (!tokens) return undefined;
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const num = (t) => BigInt(t.replace(/[uUlL]+$/, ''));
  function primary() {
    const t = next();
    if (t === undefined) throw new Error('end');
    if (t === '(') {
      const v = or();
      if (next() !== ')') throw new Error(')');
      return v;
    }
    if (t === '~') return ~primary() & ((1n << 64n) - 1n);
    if (t === '-') return -primary();
    if (/^(0[xX]|0b|\d)/.test(t)) return num(t);
    if (['UL', 'ULL', '_AC', '_UL', '_ULL', 'BIT', 'BIT_ULL', 'GENMASK', 'GENMASK_ULL'].includes(t) && peek() === '(') {
      next();
      const args = [or()];
      while (peek() === ',') {
        next();
        if (t === '_AC') next();
        else args.push(or());
      }
      if (next() !== ')') throw new Error(')');
      if (t.startsWith('BIT')) return 1n << args[0];
      if (t.startsWith('GENMASK')) return ((1n << (args[0] - args[1] + 1n)) - 1n) << args[1];
      return args[0];
    }
    if (defs.has(t)) {
      const v = evaluate(defs.get(t), defs, depth + 1);
      if (v === undefined) throw new Error(t);
      return v;
    }
    throw new Error(t);
  }
  function additive() {
    let v = primary();
    while (peek() === '+' || peek() === '-') v = next() === '+' ? v + primary() : v - primary();
    return v;
  }
  function shift() {
    let v = additive();
    while (peek() === '<<' || peek() === '>>') v = next() === '<<' ? v << additive() : v >> additive();
    return v;
  }
  function and() {
    let v = shift();
    while (peek() === '&') {
      next();
      v &= shift();
    }
    return v;
  }
  function or() {
    let v = and();
    while (peek() === '|') {
      next();
      v |= and();
    }
    return v;
  }
  try {
    const v = or();
    return i === tokens.length ? v : undefined;
  } catch {
    return undefined;
  }
}

const lowBit = (mask) => {
  let n = 0;
  while (((mask >> BigInt(n)) & 1n) === 0n) n++;
  return n;
};
const highBit = (mask) => mask.toString(2).length - 1;
const contiguous = (mask) => mask > 0n && ((mask >> BigInt(lowBit(mask))) & ((mask >> BigInt(lowBit(mask))) + 1n)) === 0n;

/**
 * The layout a header gives with one prefix: PREFIX_F_SHIFT/_OFFSET + PREFIX_F_MASK (a field),
 * PREFIX_F or PREFIX_F_BIT with one bit set (a one-bit field), PREFIX_F_VALUE = v << shift (an
 * enumeration of field F). Names not fitting these shapes are left out.
 */
function headerLayout(defs, prefix, skip = () => false) {
  const names = [...defs.keys()].filter((n) => n.startsWith(prefix));
  const value = (n) => evaluate(defs.get(n), defs);
  const fields = new Map(); // name -> [msb, lsb, name, enum?]
  for (const n of names) {
    const m = new RegExp(`^${prefix}(\\w+)_MASK$`).exec(n);
    const v = m && value(n);
    if (v && contiguous(v) && !skip(m[1])) fields.set(m[1], [highBit(v), lowBit(v), m[1]]);
  }
  for (const n of names) {
    const m = new RegExp(`^${prefix}(\\w+?)(_BIT)?$`).exec(n);
    if (!m || /_(SHIFT|OFFSET|MASK|WIDTH)$/.test(n) || skip(m[1]) || fields.has(m[1])) continue;
    const v = value(n);
    if (v === undefined) continue;
    const owner = [...fields.values()].find(([msb, lsb, f]) => m[1].startsWith(`${f}_`) && (v & ~(((1n << BigInt(msb + 1)) - 1n) ^ ((1n << BigInt(lsb)) - 1n))) === 0n);
    if (owner && !m[2]) {
      (owner[3] ??= {})[Number(v >> BigInt(owner[1]))] = m[1].slice(owner[2].length + 1);
    } else if (v > 0n && (v & (v - 1n)) === 0n && (m[2] || !/_/.test(m[1])) && ![...fields.values()].some(([msb, lsb]) => lowBit(v) <= msb && lowBit(v) >= lsb)) {
      fields.set(m[1], [lowBit(v), lowBit(v), m[1]]);
    }
  }
  return [...fields.values()].sort((a, b) => b[0] - a[0]);
}

function tcr(defs) {
  // T0SZ/T1SZ come as an offset and a shared width (TCR_TxSZ_WIDTH), not as masks.
  const width = Number(evaluate(defs.get('TCR_TxSZ_WIDTH'), defs));
  const size = ['T0SZ', 'T1SZ'].map((f) => {
    const lsb = Number(evaluate(defs.get(`TCR_${f}_OFFSET`), defs));
    return [lsb + width - 1, lsb, f];
  });
  const ips = [Number(evaluate(defs.get('TCR_IPS_SHIFT'), defs)) + 2, Number(evaluate(defs.get('TCR_IPS_SHIFT'), defs)), 'IPS'];
  // TCR_IRGN_WBWA and friends set both halves at once: only the per-half fields are layouts.
  const rest = headerLayout(defs, 'TCR_', (f) => /^(T0SZ|T1SZ|TxSZ|IRGN_|ORGN_|SHARED|IPS|KASAN|CACHE|SMP|TBI_FLAGS)/.test(f));
  return [...size, ips, ...rest.filter((f) => f[2] !== 'IPS')].sort((a, b) => b[0] - a[0]);
}

function midr(defs) {
  const fields = headerLayout(defs, 'MIDR_', (f) => !/^(REVISION|PARTNUM|ARCHITECTURE|VARIANT|IMPLEMENTOR)$/.test(f));
  const implementers = {};
  const parts = {};
  for (const [name, expr] of defs) {
    const imp = /^(\w+)_CPU_IMP_(\w+)$/.exec(name);
    if (imp) implementers[Number(evaluate(expr, defs))] = imp[2];
  }
  for (const [name, expr] of defs) {
    const part = /^(\w+)_CPU_PART_(\w+)$/.exec(name);
    if (!part) continue;
    // ARM_CPU_PART_* belong to ARM_CPU_IMP_ARM, APM_CPU_PART_* to ARM_CPU_IMP_APM, and so on.
    const impName = `ARM_CPU_IMP_${part[1]}`;
    if (!defs.has(impName)) continue;
    const imp = Number(evaluate(defs.get(impName), defs));
    (parts[imp] ??= {})[Number(evaluate(expr, defs))] = part[2];
  }
  return { fields, implementers, parts };
}

function esr(defs, traps) {
  const ecShift = Number(evaluate(defs.get('ESR_ELx_EC_SHIFT'), defs));
  const ecWidth = Number(evaluate(defs.get('ESR_ELx_EC_WIDTH'), defs));
  const classes = {};
  const named = new Map([...traps.matchAll(/\[ESR_ELx_EC_(\w+)\]\s*=\s*"([^"]+)"/g)].map((m) => [m[1], m[2]]));
  // esr_class_str's default for every class esr.h does not define: [0 ... ESR_ELx_EC_MAX] = "...".
  const unnamed = /\[0 \.\.\. ESR_ELx_EC_MAX\]\s*=\s*"([^"]+)"/.exec(traps)[1];
  const max = Number(evaluate(defs.get('ESR_ELx_EC_MAX'), defs));
  for (let ec = 0; ec <= max; ec++) classes[ec] = unnamed;
  for (const [name, expr] of defs) {
    const m = /^ESR_ELx_EC_(\w+)$/.exec(name);
    if (!m || ['SHIFT', 'WIDTH', 'MASK', 'MAX'].includes(m[1])) continue;
    // The kernel's words where traps.c has them (esr_class_str), else esr.h's identifier.
    classes[Number(evaluate(expr, defs))] = named.get(m[1]) ?? m[1];
  }
  const iss = evaluate(defs.get('ESR_ELx_ISS_MASK'), defs);
  const iss2 = evaluate(defs.get('ESR_ELx_ISS2_MASK'), defs);
  const il = Number(evaluate(defs.get('ESR_ELx_IL_SHIFT'), defs));
  return {
    fields: [
      [highBit(iss2), lowBit(iss2), 'ISS2'],
      [ecShift + ecWidth - 1, ecShift, 'EC', classes],
      [il, il, 'IL'],
      [highBit(iss), lowBit(iss), 'ISS'],
    ],
    named: named.size,
  };
}

function pstate(defs) {
  const fields = headerLayout(defs, 'PSR_', (f) => /^(f|s|x|c|MODE32|AA32_\w+|BTYPE_SHIFT)$/.test(f) || (/[a-z]$/.test(f) && !/^MODE_/.test(f)));
  // Software step: debug-monitors.h names it DBG_SPSR_SS, not PSR_*.
  const ss = evaluate(defs.get('DBG_SPSR_SS'), defs);
  if (ss) fields.push([lowBit(ss), lowBit(ss), 'SS']);
  return fields.sort((a, b) => b[0] - a[0]);
}

// --- output ---------------------------------------------------------------------------------------
const src = sources();
const registers = parseSysreg(src.sysreg);
const headerDefs = defines(src.hwdef, src.cputype, src.esr, src.uapiPtrace, src.ptrace, src.debugMonitors);
const midrInfo = midr(headerDefs);
const esrInfo = esr(headerDefs, src.traps);
const extra = {
  TCR_EL1: { enc: [3, 0, 2, 0, 2], fields: tcr(headerDefs), from: FILES.hwdef },
  MIDR_EL1: { enc: [3, 0, 0, 0, 0], fields: midrInfo.fields, from: FILES.cputype },
  ESR_ELx: { fields: esrInfo.fields, from: `${FILES.esr}, names ${FILES.traps}` },
  PSTATE: { fields: pstate(headerDefs), from: `${FILES.uapiPtrace}, ${FILES.ptrace}, ${FILES.debugMonitors}` },
};
for (const [name, reg] of Object.entries(extra)) if (registers[name]) throw new Error(`${name} is in tools/sysreg now: drop its header layout`);

const fieldText = (f) => JSON.stringify(f);
const lines = [
  `// GENERATED by tools/gen-sysreg-fields.mjs from Debian's ${PACKAGE} ${VERSION}: do not edit.`,
  '// Field layouts [msb, lsb, name, enumeration?] of the ARM64 system registers, as Linux describes them.',
  `export const SYSREG_FIELDS_SOURCE = ${JSON.stringify({ package: PACKAGE, version: VERSION, files: Object.values(FILES) })};`,
  '',
  'export type FieldLayout = readonly [msb: number, lsb: number, name: string, values?: Readonly<Record<number, string>>];',
  'export interface RegisterLayout {',
  '  /** op0 op1 CRn CRm op2, when the register has one encoding. */',
  '  enc?: readonly number[];',
  '  fields: readonly FieldLayout[];',
  '  /** The header a layout comes from when tools/sysreg does not describe the register. */',
  '  from?: string;',
  '}',
  '',
  'export const SYSREG_LAYOUTS: Readonly<Record<string, RegisterLayout>> = {',
  ...Object.entries({ ...registers, ...extra })
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, r]) => `  ${name}: { ${r.enc ? `enc: ${JSON.stringify(r.enc)}, ` : ''}fields: [${r.fields.map(fieldText).join(', ')}]${r.from ? `, from: ${JSON.stringify(r.from)}` : ''} },`),
  '};',
  '',
  `/** MIDR_EL1.Implementer codes (${FILES.cputype}, ARM_CPU_IMP_*). */`,
  `export const MIDR_IMPLEMENTERS: Readonly<Record<number, string>> = ${JSON.stringify(midrInfo.implementers)};`,
  `/** MIDR_EL1.PartNum by implementer (${FILES.cputype}, <vendor>_CPU_PART_*). */`,
  `export const MIDR_PARTS: Readonly<Record<number, Readonly<Record<number, string>>>> = ${JSON.stringify(midrInfo.parts)};`,
  '',
];
const out = path.join(root, 'adapter', 'arm64', 'sysregFields.generated.ts');
fs.writeFileSync(out, lines.join('\n'));
console.log(`wrote ${path.relative(root, out)}: ${Object.keys(registers).length} registers from ${FILES.sysreg}, ${Object.keys(extra).join(', ')} from headers; ${esrInfo.named} exception classes named by traps.c`);
