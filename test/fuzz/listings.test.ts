// Fuzzing what reads listings and encodings (issue 8, "Bad input"): the objdump line parsers, the
// listing index and the annotator; the system register decoder; the go-objdump grammar; the hover;
// the ELF reader. Inputs are random, or real ones broken: `go tool objdump` listings of the
// minibluepill and sysregs fixtures (arm64) and the minibluepill ELF binary, mutated, truncated,
// split at random points, with CRLF, invalid UTF-8 and one 10 MB line. Nothing may throw but the
// documented errors, results stay well-formed, and nothing backtracks catastrophically: the time
// for a 10× longer pathological line grows less than 30× (a scaling check, no fixed milliseconds).
// Every property runs from a fixed seed (FUZZ_SEED overrides it); fast-check prints the seed and
// path of a failure, so it replays. FUZZ_SCALE=0.1 runs a tenth of the cases.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import * as vsctm from 'vscode-textmate';
import { factsFromListing, parseInstructionLine, parseTextLine, type ListingInstruction } from '../../adapter/explain/listing';
import { ListingIndex, type LineSource } from '../../adapter/explain/listingIndex';
import { annotateLine, ObjdumpAnnotator } from '../../adapter/annotate/objdumpStream';
import { annotateInstruction } from '../../adapter/arm64/goSyntax';
import { sysregOperandAt, type OperandAt } from '../../adapter/arm64/operandAt';
import { parseOperand, parseSysreg, SysregParseError, type ParsedSysreg } from '../../adapter/arm64/parseSysreg';
import { decodeMoveWord, encodeMove, fieldFrom, fieldsOf, genericName } from '../../adapter/arm64/encoding';
import { isNamed, nameFor, sysregInfo } from '../../adapter/arm64/sysregs';
import { sysregMarkdown } from '../../adapter/arm64/sysregMarkdown';
import { PSTATE_FIELDS } from '../../adapter/arm64/sysregs.generated';
import { decodeCurrentEl, decodeEsr, decodePstate, decodeSctlr, valueDecoderFor, type DecodedValue } from '../../adapter/arm64/valueFields';
import { bufferReader, NotElfError, parseSections, readElfSections, type ElfInfo } from '../../adapter/elf/sections';
import { parseFunctions, readElfFunctions, type ElfSymbol } from '../../adapter/elf/symbols';
import { factsFromBinary } from '../../adapter/explain/fromElf';
import { buildFixture } from '../support/fixtures';
import { goObjdump } from '../support/arm64';
import { loadObjdumpGrammar } from '../support/grammar';
import { hoverAt } from '../../adapter/explain/objdumpHover';
import { PATHOLOGICAL, pathologicalLine } from '../support/hover';

const SEED = Number(process.env.FUZZ_SEED ?? 20250808);
const runs = (n: number) => Math.max(10, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));
const params = (n: number, offset = 0) => ({ seed: SEED + offset, numRuns: runs(n) });

/** A small seeded generator for the loops that are not fast-check properties. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Lowest of a few runs, in ns: the least disturbed by the other jobs on the machine. */
function fastest(f: () => void, times = 3): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t));
  }
  return best;
}

/** Work on a 10× longer input takes less than 30× the time (linear, not quadratic), measured twice before failing. */
function assertScales(what: string, work: (length: number) => () => void, length: number): void {
  const short = work(length);
  const long = work(10 * length);
  let ratio = 0;
  for (let attempt = 0; attempt < 2; attempt++) {
    ratio = fastest(long) / fastest(short);
    if (ratio < 30) return;
  }
  assert.fail(`${what}: ${10 * length} characters took ${ratio.toFixed(0)}× the time of ${length} (catastrophic backtracking?)`);
}

// ---------- real inputs ----------

let binary: string;
/** The whole minibluepill binary's listing (~11 MB), and the lines of the fixtures' own functions (with -S source lines). */
let fullListing: string;
let realLines: string[];
let smallListing: string;

const TOKENS = ['TEXT ', '(SB)', ' ', '  ', '\t', '\t\t', '0x', 'ca6b0', 'd538d08a', 'bluepill.go:', 'bluepill_arm64.s:87', '53', 'MRS ', 'MSR ', '$18052', '$2', ', ', 'R10', 'RZR', 'S3_0_C13_C0_4', 'TPIDR_EL1', 'DAIFSet', '//', '=>', '\r', '\n', '(', ')', '$', '9', 'f', '.go', ':', '·', 'é', '\uFFFD', '\uD800', 'minibluepill/kvm.(*vCPU).run', '  // '];
const tokenLine = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join(''));
const anyLine = fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), tokenLine);

type Edit =
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'run'; at: number; length: number; times: number };
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 8 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('run' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }), times: fc.integer({ min: 2, max: 200 }) }),
);
function applyEdit(line: string, e: Edit): string {
  const at = e.at % (line.length + 1);
  switch (e.kind) {
    case 'flip':
      return line.slice(0, at) + e.char + line.slice(at + 1);
    case 'insert':
      return line.slice(0, at) + e.text + line.slice(at);
    case 'delete':
      return line.slice(0, at) + line.slice(at + e.length);
    case 'truncate':
      return line.slice(0, at);
    case 'run':
      return line.slice(0, at) + line.slice(at, at + e.length).repeat(e.times) + line.slice(at + e.length);
  }
}
/** A real line with 1 to 4 edits. */
const mutatedLine = () => fc.tuple(fc.nat(), fc.array(editArb, { minLength: 1, maxLength: 4 })).map(([i, edits]) => edits.reduce(applyEdit, realLines[i % realLines.length]));

// ---------- checks of well-formed results ----------

function checkInstruction(ins: ListingInstruction | undefined, line: string): void {
  if (!ins) return;
  assert.equal(typeof ins.address, 'bigint');
  assert.ok(ins.address >= 0n);
  assert.match(ins.bytes, /^[0-9a-f]+$/);
  assert.equal(ins.text, ins.text.trimEnd(), 'no trailing white space in the instruction text');
  assert.ok(line.includes(ins.text));
  if (ins.location) assert.ok(Number.isInteger(ins.location.line) && ins.location.line >= 0 && ins.location.file.length > 0);
}

function checkTextLine(t: { name: string; file: string } | undefined): void {
  if (!t) return;
  assert.ok(t.name.length > 0 && !/^\s/.test(t.name));
  assert.equal(t.file, t.file.trimEnd());
}

function checkIndex(index: ListingIndex, source: LineSource): void {
  let previous = -1;
  for (const b of index.blocks) {
    assert.ok(b.headerLine > previous && b.headerLine <= b.lastLine && b.lastLine < source.lineCount, 'blocks in order, each within the document');
    assert.ok(parseTextLine(source.lineAt(b.headerLine)), 'a block starts at a TEXT line');
    assert.equal(b.firstAddress === undefined, b.lastAddress === undefined);
    previous = b.lastLine;
    if (b.firstAddress === undefined) continue;
    // (In a mutated listing a block's addresses may run backwards and blockAt may find none.)
    const hit = index.blockAt(b.firstAddress);
    if (hit) assert.ok(hit.firstAddress! <= b.firstAddress && b.firstAddress <= hit.lastAddress!, 'blockAt finds a block holding the address');
    const n = index.lineOf(b.firstAddress, source);
    if (n !== undefined) assert.equal(Number(parseInstructionLine(source.lineAt(n))!.address), b.firstAddress);
    assert.equal(index.blockNamed(b.name)?.name, b.name);
  }
}

const lineSource = (lines: string[]): LineSource => ({ lineCount: lines.length, lineAt: (n) => lines[n] });

/** The register of a parsed sysreg spelling, for comparing two spellings. */
const fieldOf = (p: ParsedSysreg) => (p.kind === 'sysreg' ? p.field : `${p.name}`);

function checkAnnotation(line: string): void {
  const out = annotateLine(line);
  if (out === line) return;
  const body = line.trimEnd();
  const tab = body.lastIndexOf('\t');
  assert.ok(out.startsWith(line.slice(0, tab + 1)), 'the columns before the instruction are kept');
  assert.ok(out.endsWith(line.slice(body.length)), 'the trailing padding is kept');
  assert.equal(annotateLine(out), out, 'annotation is idempotent');
  const before = body.slice(tab + 1);
  const after = out.slice(tab + 1, out.length - (line.length - body.length)).split('  // ')[0];
  assertSameRegister(before, after);
}

/** The annotation of `before` names the same register (MSR (immediate) is only commented; R99 is annotated but not a register). */
function assertSameRegister(before: string, after: string): void {
  if (/^MSR\s+\$/.test(before)) return;
  let original: ParsedSysreg;
  try {
    original = parseSysreg(before);
  } catch (e) {
    assert.ok(e instanceof SysregParseError);
    return;
  }
  assert.equal(fieldOf(parseSysreg(after)), fieldOf(original), `"${after}" names the register of "${before}"`);
}

// ---------- the annotator as a stream ----------

async function annotateChunks(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    new ObjdumpAnnotator(),
    new Writable({
      write(chunk: Buffer, _e, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

const split = (data: Buffer, cuts: number[]) => {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((start, i) => data.subarray(start, at[i] ?? data.length));
};

/** What the annotator must do to one line (no newline): the first MRS/MSR after a tab, decoded from that tab on. */
function expectedLine(line: Buffer): Buffer {
  const hits = [line.indexOf('MRS '), line.indexOf('MSR ')].filter((i) => i >= 0);
  if (!hits.length) return line;
  const tab = line.lastIndexOf(9, Math.min(...hits));
  if (tab < 0) return line;
  const tail = line.subarray(tab).toString('utf8');
  const rewritten = annotateLine(tail);
  const out = rewritten === tail ? line : Buffer.concat([line.subarray(0, tab), Buffer.from(rewritten)]);
  // For a valid UTF-8 line this is annotateLine of the whole line.
  const text = line.toString('utf8');
  if (Buffer.from(text).equals(line)) assert.equal(out.toString('utf8'), annotateLine(text));
  return out;
}

function expectedOutput(input: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let start = 0; start < input.length; ) {
    const nl = input.indexOf(10, start);
    parts.push(expectedLine(input.subarray(start, nl < 0 ? input.length : nl)));
    if (nl < 0) break;
    parts.push(Buffer.from('\n'));
    start = nl + 1;
  }
  return Buffer.concat(parts);
}

const INVALID_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xc0, 0xaf])];

// ---------- the grammar ----------

let grammar: vsctm.IGrammar;

function checkTokens(line: string): void {
  const { tokens } = grammar.tokenizeLine(line, vsctm.INITIAL);
  assert.equal(tokens[0].startIndex, 0);
  for (let i = 1; i < tokens.length; i++) assert.equal(tokens[i].startIndex, tokens[i - 1].endIndex, 'tokens are contiguous');
  assert.ok(tokens[tokens.length - 1].endIndex >= line.length, 'tokens cover the line');
}

// ---------- the hover: the scan of the whole line it replaced, as a reference ----------

const MOVES_REFERENCE = [
  { re: /\b(MRS)\s+(\$\d+|S[23]_[0-7]_C\d+_C\d+_[0-7]|[A-Za-z][A-Za-z0-9_]*)\s*,\s*(?:R\d+|RZR|ZR)\b/g, direction: 'mrs' as const },
  { re: /\b(MSR)\s+(?:R\d+|RZR|ZR)\s*,\s*(\$\d+|S[23]_[0-7]_C\d+_C\d+_[0-7]|[A-Za-z][A-Za-z0-9_]*)/g, direction: 'msr' as const },
];
function operandAtByFullScan(line: string, character: number): OperandAt | undefined {
  for (const { re, direction } of MOVES_REFERENCE) {
    re.lastIndex = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const start = m.index + m[0].indexOf(m[2], m[1].length);
      const end = start + m[2].length;
      if (character < start || character > end) continue;
      const field = parseOperand(m[2]);
      if (field !== undefined) return { start, end, text: m[2], field, direction };
    }
  }
  return undefined;
}

// ---------- ELF ----------

let elf: Buffer;
let elfInfo: ElfInfo;
let elfFunctions: ElfSymbol[];
let tmp: string;
const SHT_SYMTAB = 2;

/** Parses bytes as readElfFunctions parses a file: the result, or the error it threw. */
function parseElf(bytes: Buffer, label: string): { info?: ElfInfo; functions?: ElfSymbol[]; error?: unknown } {
  try {
    const read = bufferReader(bytes, label);
    const info = parseSections(read, label);
    return { info, functions: parseFunctions(info, read, label) };
  } catch (error) {
    return { error };
  }
}

/** A clear error (NotElfError naming the input), or a partial but valid result. */
function checkElfOutcome(r: { info?: ElfInfo; functions?: ElfSymbol[]; error?: unknown }, label: string): 'ok' | 'error' {
  if (r.error !== undefined) {
    const e = r.error as Error;
    assert.ok(e instanceof NotElfError, `expected a NotElfError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.ok(e.message.includes(label), `the message names the input: ${e.message}`);
    return 'error';
  }
  for (const s of r.info!.sections) {
    assert.equal(typeof s.name, 'string');
    assert.ok(Number.isFinite(s.offset) && s.offset >= 0 && Number.isFinite(s.size) && s.size >= 0 && typeof s.addr === 'bigint');
  }
  const fns = r.functions!;
  for (let i = 0; i < fns.length; i++) {
    assert.ok(typeof fns[i].name === 'string' && Number.isFinite(fns[i].size));
    if (i) assert.ok(fns[i - 1].address <= fns[i].address, 'functions sorted by address');
  }
  return 'ok';
}

/** Writes `edits` into `bytes`, runs `f`, and puts the bytes back (a 2 MB copy per case would dominate the run). */
function withEdits<T>(bytes: Buffer, edits: Array<{ at: number; data: Buffer }>, f: () => T): T {
  const saved = edits.map((e) => ({ at: e.at, data: Buffer.from(bytes.subarray(e.at, e.at + e.data.length)) }));
  try {
    for (const e of edits) e.data.copy(bytes, e.at);
    return f();
  } finally {
    for (const s of saved.reverse()) s.data.copy(bytes, s.at);
  }
}

const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v & 0xffff);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};

type Hostile =
  | { field: 'e_shoff'; value: bigint }
  | { field: 'e_shnum' | 'e_shentsize' | 'e_shstrndx'; value: number }
  | { field: 'sh_offset' | 'sh_size'; section: number; value: bigint }
  | { field: 'sh_link' | 'sh_name' | 'sh_type'; section: number; value: number }
  | { field: 'noNul'; table: 'strtab' | 'shstrtab' }
  | { field: 'class' | 'data'; value: number };

let hostileArb: fc.Arbitrary<Hostile[]>;
let interesting: { symtab: number; strtab: number; shstrndx: number; text: number };

function hostileEdits(h: Hostile[]): Array<{ at: number; data: Buffer }> {
  const shoff = 0 + Number(elf.readBigUInt64LE(40));
  const sh = (i: number, o: number) => shoff + (i % elfInfo.sections.length) * 64 + o;
  return h.map((x) => {
    switch (x.field) {
      case 'e_shoff':
        return { at: 40, data: u64(x.value) };
      case 'e_shentsize':
        return { at: 58, data: u16(x.value) };
      case 'e_shnum':
        return { at: 60, data: u16(x.value) };
      case 'e_shstrndx':
        return { at: 62, data: u16(x.value) };
      case 'sh_offset':
        return { at: sh(x.section, 24), data: u64(x.value) };
      case 'sh_size':
        return { at: sh(x.section, 32), data: u64(x.value) };
      case 'sh_link':
        return { at: sh(x.section, 40), data: u32(x.value) };
      case 'sh_name':
        return { at: sh(x.section, 0), data: u32(x.value) };
      case 'sh_type':
        return { at: sh(x.section, 4), data: u32(x.value) };
      case 'noNul': {
        const s = elfInfo.sections[x.table === 'strtab' ? interesting.strtab : interesting.shstrndx];
        return { at: s.offset, data: Buffer.alloc(s.size, 'A') };
      }
      case 'class':
        return { at: 4, data: Buffer.from([x.value]) };
      case 'data':
        return { at: 5, data: Buffer.from([x.value]) };
    }
  });
}

describe('fuzzing listings and encodings', () => {
  before(async () => {
    binary = buildFixture('minibluepill', { goarch: 'arm64' });
    const sysregs = buildFixture('sysregs', { goarch: 'arm64' });
    fullListing = execFileSync('go', ['tool', 'objdump', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const withSource = execFileSync('go', ['tool', 'objdump', '-S', '-s', '^minibluepill', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
    smallListing = withSource + goObjdump(sysregs, '^main\\.');
    realLines = smallListing.split('\n').filter((l) => l.length > 0);
    // dlv's disassembly text, with its current-instruction marker.
    realLines.push('=>\tbluepill_arm64.s:87\t0x95c6d8\td538d08a\tMRS $18052, R10', '\tentry.s:12\t0x951fa4\ta90e0640\tMSR R10, S3_0_C13_C0_4', '\t0x951fa8\td50342df\tMSR $2, DAIFSet');
    assert.ok(realLines.filter((l) => /\s(MRS|MSR) /.test(l)).length > 20, 'the real listings hold MRS/MSR lines');

    grammar = await loadObjdumpGrammar();

    elf = fs.readFileSync(binary);
    const real = readElfFunctions(binary);
    elfInfo = real.info;
    elfFunctions = real.functions;
    const symtab = elfInfo.sections.findIndex((s) => s.type === SHT_SYMTAB);
    interesting = { symtab, strtab: elfInfo.sections[symtab].link, shstrndx: elf.readUInt16LE(62), text: elfInfo.sections.findIndex((s) => s.name === '.text') };
    assert.ok(elfFunctions.length > 1000 && interesting.text > 0);
    const sectionPick = fc.oneof(fc.constantFrom(interesting.symtab, interesting.strtab, interesting.shstrndx, interesting.text), fc.nat());
    const big = fc.oneof(fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, BigInt(elf.length), BigInt(elf.length - 1), 0x7fffffffn, 0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    const small16 = fc.oneof(fc.constantFrom(0, 1, 39, 40, 63, 64, 65, 0xff00, 0xffff, elfInfo.sections.length), fc.integer({ min: 0, max: 0xffff }));
    const small32 = fc.oneof(fc.constantFrom(0, 1, 0xffffffff, elfInfo.sections.length, interesting.strtab), fc.nat({ max: 0xffffffff }));
    hostileArb = fc.array(
      fc.oneof(
        fc.record({ field: fc.constant('e_shoff' as const), value: big }),
        fc.record({ field: fc.constantFrom('e_shnum' as const, 'e_shentsize' as const, 'e_shstrndx' as const), value: small16 }),
        fc.record({ field: fc.constantFrom('sh_offset' as const, 'sh_size' as const), section: sectionPick, value: big }),
        fc.record({ field: fc.constantFrom('sh_link' as const, 'sh_name' as const, 'sh_type' as const), section: sectionPick, value: small32 }),
        fc.record({ field: fc.constant('noNul' as const), table: fc.constantFrom('strtab' as const, 'shstrtab' as const) }),
        fc.record({ field: fc.constantFrom('class' as const, 'data' as const), value: fc.integer({ min: 0, max: 255 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    );
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-fuzz-listings-'));
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('objdump lines and the listing index', () => {
    it('random lines (20,000): the parsers never throw and their results are well-formed', () => {
      fc.assert(
        fc.property(anyLine, (line) => {
          checkInstruction(parseInstructionLine(line), line);
          checkTextLine(parseTextLine(line));
        }),
        params(20_000, 1),
      );
    });

    it('mutated real lines (20,000) parse well-formed or not at all; a CR at the end of any real line changes nothing', () => {
      for (const line of realLines) {
        assert.deepEqual(parseInstructionLine(line + '\r'), parseInstructionLine(line));
        assert.deepEqual(parseTextLine(line + '\r'), parseTextLine(line));
      }
      fc.assert(
        fc.property(mutatedLine(), (line) => {
          checkInstruction(parseInstructionLine(line), line);
          checkTextLine(parseTextLine(line));
        }),
        params(20_000, 2),
      );
    });

    it('pathological lines: parsing time grows linearly with the length', () => {
      for (const kind of Object.keys(PATHOLOGICAL)) {
        assertScales(`parse a ${kind} line`, (n) => {
          const line = pathologicalLine(kind, n) + 'x\r';
          return () => {
            parseInstructionLine(line);
            parseTextLine(line);
          };
        }, 100_000);
      }
      // The cases that were quadratic: a run of spaces inside the instruction text, and after TEXT.
      assertScales('instruction text with a run of spaces', (n) => {
        const line = `\t0x1\tab\tX${' '.repeat(n)}Y`;
        return () => parseInstructionLine(line);
      }, 10_000);
      assertScales('TEXT line with a run of spaces', (n) => {
        const line = `TEXT a(SB) ${' '.repeat(n)}Y\r`;
        return () => parseTextLine(line);
      }, 10_000);
    });

    it('the real listing (11 MB): every instruction is found at its line, in its block, with LF or CRLF', async () => {
      const lines = fullListing.split('\n');
      const index = await ListingIndex.build(lineSource(lines));
      checkIndex(index, lineSource(lines));
      const crlf = await ListingIndex.build(lineSource(fullListing.replace(/\n/g, '\r\n').split(/\r?\n/)));
      assert.deepEqual(crlf.blocks, index.blocks);
      assert.ok(index.blocks.length > 1000);
      let checked = 0;
      for (let n = 0; n < lines.length; n += 37) {
        const ins = parseInstructionLine(lines[n]);
        if (!ins) continue;
        const a = Number(ins.address);
        const block = index.blockAt(a)!;
        assert.ok(block.headerLine < n && n <= block.lastLine, `0x${a.toString(16)} is in the block of its line`);
        assert.equal(Number(parseInstructionLine(lines[index.lineOf(a, lineSource(lines))!])!.address), a);
        checked++;
      }
      assert.ok(checked > 4000);
    });

    it('mutated and truncated listings (1,000): the index is well-formed and its lookups agree with the lines', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.oneof(mutatedLine(), anyLine)), { maxLength: 12 }), fc.nat(), fc.integer({ min: 1, max: 500 }), async (replacements, cut, yieldEvery) => {
          const lines = [...realLines];
          for (const [at, line] of replacements) lines[at % lines.length] = line;
          const text = lines.join('\n');
          const truncated = text.slice(0, cut % (text.length + 1)).split('\n');
          const source = lineSource(truncated);
          checkIndex(await ListingIndex.build(source, yieldEvery), source);
        }),
        params(1_000, 3),
      );
    });

    it('truncated real listing (300 cuts): the blocks are those of the whole listing, up to the cut', async () => {
      const whole = await ListingIndex.build(lineSource(realLines));
      await fc.assert(
        fc.asyncProperty(fc.nat(), async (cut) => {
          const n = cut % (realLines.length + 1);
          const index = await ListingIndex.build(lineSource(realLines.slice(0, n)));
          const expected = whole.blocks.filter((b) => b.headerLine < n);
          assert.equal(index.blocks.length, expected.length);
          index.blocks.forEach((b, i) => {
            if (expected[i].lastLine < n) assert.deepEqual(b, expected[i]);
            else assert.ok(b.name === expected[i].name && b.headerLine === expected[i].headerLine && b.lastLine <= expected[i].lastLine);
          });
        }),
        params(300, 4),
      );
    });

    it('listing files: CRLF, invalid UTF-8 and truncation give the same facts; a 10 MB line is read', async () => {
      const lf = path.join(tmp, 'lf.objdump');
      const crlf = path.join(tmp, 'crlf.objdump');
      const invalid = path.join(tmp, 'invalid.objdump');
      const truncated = path.join(tmp, 'truncated.objdump');
      fs.writeFileSync(lf, smallListing);
      fs.writeFileSync(crlf, smallListing.replace(/\n/g, '\r\n'));
      // Invalid bytes in the Go source lines of -S (a file in Latin-1, say) and at the end of TEXT lines.
      const bytes = Buffer.from(smallListing);
      const parts: Buffer[] = [];
      let start = 0;
      for (let nl = bytes.indexOf(10); nl >= 0; start = nl + 1, nl = bytes.indexOf(10, start)) {
        const line = bytes.subarray(start, nl);
        const isCode = /^\s*(\S+:\d+\s+)?0x/.test(line.toString('latin1'));
        parts.push(line, isCode ? Buffer.alloc(0) : INVALID_UTF8[start % INVALID_UTF8.length], Buffer.from('\n'));
      }
      fs.writeFileSync(invalid, Buffer.concat(parts));
      const cut = Math.floor(smallListing.length * 0.6);
      fs.writeFileSync(truncated, smallListing.slice(0, cut));
      const instructions = realLines.map(parseInstructionLine).filter((i): i is ListingInstruction => i !== undefined);
      const pick = random(SEED);
      const addresses = Array.from({ length: runs(40) }, () => instructions[Math.floor(pick() * instructions.length)].address);
      addresses.push(instructions[instructions.length - 4].address);
      for (const a of addresses) {
        const expected = await factsFromListing(lf, a);
        assert.ok(expected, `0x${a.toString(16)} is in the listing`);
        const strip = (f: Awaited<ReturnType<typeof factsFromListing>>) => f && { ...f, origin: '' };
        assert.deepEqual(strip(await factsFromListing(crlf, a)), strip(expected));
        const fromInvalid = await factsFromListing(invalid, a);
        assert.deepEqual({ ...strip(fromInvalid), source: undefined }, { ...strip(expected), source: undefined }, 'the same instruction, symbol and offset');
        const fromTruncated = await factsFromListing(truncated, a);
        if (smallListing.indexOf('\n', smallListing.indexOf(`0x${a.toString(16)}\t`)) < cut) assert.deepEqual(strip(fromTruncated), strip(expected));
      }
      const oneLine = path.join(tmp, 'one-line.objdump');
      fs.writeFileSync(oneLine, pathologicalLine('spaces', 10e6));
      const facts = await factsFromListing(oneLine, 0xca6b0n);
      assert.equal(facts?.instruction?.text, 'MRS');
      assert.equal(await factsFromListing(oneLine, 0x1n), undefined);
    });
  });

  describe('the annotator', () => {
    it('random and mutated real lines (30,000): unannotated lines come back identical, annotation keeps the columns, is idempotent and names the same register', () => {
      for (const line of realLines) checkAnnotation(line);
      fc.assert(fc.property(fc.oneof(anyLine, mutatedLine(), mutatedLine()), checkAnnotation), params(30_000, 5));
    });

    it('instructions (20,000): annotateInstruction is undefined or a rewrite of the same register move', () => {
      const instruction = fc.tuple(fc.constantFrom('MRS ', 'MSR ', 'mrs ', 'MRS\t'), fc.constantFrom('$18052', 'R10', 'S3_0_C13_C0_4', 'TPIDR_EL1', 'DAIFSet', '$', 'RZR', 'ZR', 'S3_8_C0_C0_0', '$99999'), fc.constantFrom(', ', ',', ' , ', ' '), fc.constantFrom('R10', 'ZR', '$18052', 'S2_0_C0_C0_0', 'DAIFClr', 'x1', 'R99', 'TPIDR_EL0'), fc.constantFrom('', ' ', '\r', ' x'));
      fc.assert(
        fc.property(fc.oneof(instruction.map((p) => p.join('')), anyLine), (text) => {
          const out = annotateInstruction(text);
          if (out === undefined) return;
          assert.match(out, /^(MRS|MSR) .*  \/\/ \S/);
          assertSameRegister(text, out.split('  // ')[0]);
        }),
        params(20_000, 6),
      );
    });

    it('streams (1,000 random splits of real listings with CRLF, invalid UTF-8 and mutated lines): every split gives the one-shot output, byte for byte', async () => {
      const lineArb = fc.oneof({ weight: 6, arbitrary: fc.nat().map((i) => realLines[i % realLines.length]) }, { weight: 2, arbitrary: mutatedLine() }, { weight: 1, arbitrary: anyLine });
      const damage = fc.record({ crlf: fc.boolean(), invalidAt: fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }) });
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(lineArb, damage), { minLength: 1, maxLength: 200 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), async (lines, cuts, finalNewline) => {
          const input = Buffer.concat(
            lines.map(([line, d], i) => {
              let b = Buffer.from(line);
              if (d.invalidAt) b = Buffer.concat([b.subarray(0, d.invalidAt[0] % (b.length + 1)), INVALID_UTF8[d.invalidAt[1] % INVALID_UTF8.length], b.subarray(d.invalidAt[0] % (b.length + 1))]);
              const end = i < lines.length - 1 || finalNewline ? (d.crlf ? '\r\n' : '\n') : '';
              return Buffer.concat([b, Buffer.from(end)]);
            }),
          );
          const oneShot = await annotateChunks([input]);
          assert.ok(oneShot.equals(expectedOutput(input)), 'one chunk: each line as annotateLine says, other bytes untouched');
          assert.ok((await annotateChunks(split(input, cuts))).equals(oneShot), 'any split: the same bytes');
        }),
        params(1_000, 7),
      );
    });

    it('the whole real listing: one chunk, 64 KB chunks and 50 random splits give the same bytes; only MRS/MSR lines change', async () => {
      const input = Buffer.from(fullListing);
      const oneShot = await annotateChunks([input]);
      assert.ok(oneShot.equals(expectedOutput(input)));
      const chunks64k: Buffer[] = [];
      for (let i = 0; i < input.length; i += 65536) chunks64k.push(input.subarray(i, i + 65536));
      assert.ok((await annotateChunks(chunks64k)).equals(oneShot));
      const pick = random(SEED + 8);
      for (let i = 0; i < runs(50); i++) {
        const cuts = Array.from({ length: 1 + Math.floor(pick() * 200) }, () => Math.floor(pick() * input.length));
        assert.ok((await annotateChunks(split(input, cuts))).equals(oneShot), `split ${i}`);
      }
      const before = fullListing.split('\n');
      const after = oneShot.toString('utf8').split('\n');
      assert.equal(after.length, before.length);
      const changed = before.filter((l, i) => l !== after[i]);
      assert.ok(changed.length > 0 && changed.every((l) => /\s(MRS|MSR) /.test(l)));
    });

    it('one 10 MB line: streamed in any chunking in linear time; the MRS at its end is annotated', async () => {
      const line = (n: number) => Buffer.from(`${pathologicalLine('moves', n)}\tMRS $18052, R10\t\t\n`);
      const input = line(10e6);
      const chunked = (b: Buffer, size: number) => Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size));
      const out = await annotateChunks(chunked(input, 65536));
      assert.ok(out.subarray(0, input.length - 20).equals(input.subarray(0, input.length - 20)));
      assert.match(out.subarray(-60).toString(), /\tMRS TPIDR_EL1, R10 {2}\/\/ \$18052 · EL1 only\t\t\n$/);
      assert.ok((await annotateChunks(split(input, [1, 777_777, 5e6, 5e6 + 1, input.length - 3]))).equals(out));
      // In one chunk the line is annotated whole; in pieces, all but its last 64 KB goes out first (constant memory): the same bytes.
      assert.ok((await annotateChunks([input])).equals(out));
      const midLineTab = Buffer.from(`${pathologicalLine('moves', 3e6)}\tMRS $18052, R10 ${'x'.repeat(200_000)}\tMSR R1, S3_0_C13_C0_4\t\n`);
      assert.ok((await annotateChunks(chunked(midLineTab, 65536))).equals(await annotateChunks([midLineTab])));
      // Linear in the length of the line (joining the pieces of a long line at every chunk was quadratic).
      const time = async (b: Buffer) => {
        const chunks = chunked(b, 65536);
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
          const t = process.hrtime.bigint();
          await annotateChunks(chunks);
          best = Math.min(best, Number(process.hrtime.bigint() - t));
        }
        return best;
      };
      const ratio = (await time(input)) / (await time(line(1e6)));
      assert.ok(ratio < 30, `a 10 MB line took ${ratio.toFixed(0)}× the time of a 1 MB one`);
    });
  });

  describe('the system register decoder', () => {
    it('every encoding (32,768 fields × MRS and MSR) round-trips: name, generic name, word, dlv bytes, annotation', () => {
      for (let field = 0; field < 1 << 15; field++) {
        assert.equal(fieldFrom(fieldsOf(field)), field);
        assert.equal(parseOperand(genericName(field)), field);
        assert.equal(parseOperand(`$${field}`), field);
        const info = sysregInfo(field);
        assert.ok(info.description.length > 0 && [0, 1, 2, 3].includes(info.minEl));
        for (const direction of ['mrs', 'msr'] as const) {
          const name = nameFor(field, direction);
          assert.equal(parseOperand(name), field, `${name} is field ${field}`);
          const rt = field % 31;
          const word = encodeMove(direction, field, rt);
          assert.deepEqual(decodeMoveWord(word), { kind: direction, field, rt });
          const hex = word.toString(16).padStart(8, '0');
          assert.deepEqual(parseSysreg(`0x${hex}`), { kind: 'sysreg', field, direction, rt, spelling: `0x${hex}` });
          // Bare digits are dlv's bytes; where they also read as an MRS/MSR word, that is said (alsoAsWord).
          const bytes = Buffer.from(hex, 'hex').reverse().toString('hex');
          let alsoAWord = false;
          try {
            parseSysreg(`0x${bytes}`);
            alsoAWord = true;
          } catch {
            // not an MRS/MSR as a word: one reading only
          }
          assert.deepEqual(parseSysreg(bytes), { kind: 'sysreg', field, direction, rt, spelling: bytes, ...(alsoAWord ? { alsoAsWord: parseInt(bytes, 16) >>> 0 } : {}) });
          const go = direction === 'mrs' ? `MRS $${field}, R${rt}` : `MSR R${rt}, $${field}`;
          const annotated = annotateInstruction(go)!;
          assert.equal(fieldOf(parseSysreg(annotated.split('  // ')[0])), field);
          assert.ok(sysregMarkdown(field, direction).includes(genericName(field)));
        }
      }
    });

    it('any string (30,000): parseSysreg decodes it to a well-formed register or throws SysregParseError', () => {
      const pstate = new Set(PSTATE_FIELDS.map((p) => p[3]));
      const spelled = fc.tuple(fc.constantFrom('', 'MRS ', 'MSR ', 'mrs ', 'msr ', '0x', '$', '#'), fc.oneof(fc.constantFrom(...TOKENS, 'x18', 'daifset', 'pan', '#1', '#x', '$99', 'd538d08a', '8ad038d5', 'S3_7_C15_C15_7', 's2_0_c0_c0_0'), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 10 }), fc.nat().map(String)), fc.constantFrom('', ', ', ','), fc.constantFrom('', 'R10', 'x1', 'ZR', '#2', 'DAIFSet', 'tpidr_el1'));
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), spelled.map((p) => p.join('')), tokenLine), (input) => {
          let p: ParsedSysreg;
          try {
            p = parseSysreg(input);
          } catch (e) {
            assert.ok(e instanceof SysregParseError, `only SysregParseError: ${(e as Error)?.constructor?.name}`);
            assert.ok((e as Error).message.length > 0);
            return;
          }
          if (p.kind === 'sysreg') {
            assert.ok(Number.isInteger(p.field) && p.field >= 0 && p.field < 1 << 15);
            if (p.rt !== undefined) assert.ok(Number.isInteger(p.rt) && p.rt >= 0 && p.rt <= 31);
            assert.ok(p.direction === undefined || p.direction === 'mrs' || p.direction === 'msr');
          } else {
            assert.ok(pstate.has(p.name));
            if (p.imm !== undefined) assert.ok(Number.isInteger(p.imm) && p.imm >= 0 && p.imm <= 15, `MSR (immediate) value ${p.imm}`);
          }
        }),
        params(30_000, 9),
      );
      assert.deepEqual(parseSysreg('msr daifset, #2'), { kind: 'pstate', name: 'DAIFSET', imm: 2, spelling: 'msr daifset, #2' });
      assert.throws(() => parseSysreg('MSR #x, DAIFSet'), SysregParseError);
      assert.throws(() => parseSysreg('MSR $99, DAIFSet'), SysregParseError);
      // Go's zero register is ZR (it was not taken for a register); R99 is none (it gave rt 99).
      assert.deepEqual(parseSysreg('MSR ZR, TPIDR_EL0'), { kind: 'sysreg', field: parseOperand('TPIDR_EL0'), direction: 'msr', rt: 31, spelling: 'MSR ZR, TPIDR_EL0' });
      assert.throws(() => parseSysreg('MRS $18052, R99'), SysregParseError);
    });

    it('any number (20,000 words, 20,000 integers): words decode consistently; only fields 0..32767 are registers', () => {
      fc.assert(
        fc.property(fc.nat({ max: 0xffffffff }), (word) => {
          const move = decodeMoveWord(word);
          if (move && move.kind !== 'msr-imm') assert.equal(encodeMove(move.kind, move.field, move.rt), word);
          let p: ParsedSysreg | undefined;
          try {
            p = parseSysreg(`0x${word.toString(16).padStart(8, '0')}`);
          } catch (e) {
            assert.ok(e instanceof SysregParseError);
          }
          if (p) assert.ok(move, 'decodes only MRS/MSR words');
          if (p?.kind === 'sysreg') assert.ok(move && move.kind !== 'msr-imm' && p.field === move.field);
        }),
        params(20_000, 10),
      );
      fc.assert(
        fc.property(fc.oneof(fc.integer(), fc.integer({ min: 0, max: 70_000 })), (n) => {
          const field = parseOperand(`$${n}`);
          if (n >= 0 && n < 1 << 15 && String(n).length <= 5) assert.equal(field, n);
          else assert.equal(field, undefined);
          if (field !== undefined) assert.equal(isNamed(field), sysregInfo(field).mrsName !== '' || sysregInfo(field).msrName !== '');
        }),
        params(20_000, 11),
      );
    });

    it('register values (10,000 × 4 decoders): any 64-bit value, negative or wider, gives well-formed fields', () => {
      const check = (d: DecodedValue) => {
        assert.ok(d.register.length > 0 && d.summary.length > 0);
        for (const f of d.fields) assert.ok(f.name.length > 0 && f.value.length > 0 && f.value !== 'undefined' && !/NaN|field -\d/.test(`${f.value} ${f.meaning ?? ''}`), JSON.stringify(f));
      };
      fc.assert(
        fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.tuple(fc.integer({ min: 0, max: 63 }), fc.nat({ max: 2 ** 26 - 1 })).map(([ec, iss]) => (BigInt(ec) << 26n) | BigInt(iss))), (v) => {
          for (const d of [decodePstate(v), decodeEsr(v), decodeCurrentEl(v), decodeSctlr(v)]) check(d);
        }),
        params(10_000, 12),
      );
      // EC 0x18 with Op0 0 or 1 is a trapped system instruction (DC, IC, TLBI): no negative "field".
      check(decodeEsr((0x18n << 26n) | (1n << 20n)));
      fc.assert(
        fc.property(fc.string({ maxLength: 12 }), (name) => {
          const decoder = valueDecoderFor(name);
          if (decoder) check(decoder(0x3c5n));
        }),
        params(5_000, 13),
      );
    });
  });

  describe('the go-objdump grammar', () => {
    it('real lines and random lines (5,000) tokenize into tokens that cover the line', () => {
      for (const line of realLines) checkTokens(line);
      fc.assert(fc.property(fc.oneof(anyLine, mutatedLine()), checkTokens), params(5_000, 14));
    });

    it('pathological lines: tokenizing time grows linearly with the length', () => {
      for (const kind of Object.keys(PATHOLOGICAL)) {
        assertScales(`tokenize a ${kind} line`, (n) => {
          const line = pathologicalLine(kind, n);
          return () => checkTokens(line);
        }, 10_000);
      }
      for (const [what, unit] of [['letters', 'a'], ['digits', '1'], ['nested parentheses', '(('], ['a symbol path', 'a/b.'], ['(PC) offsets', '1(P']] as const) {
        assertScales(`tokenize ${what}`, (n) => {
          const line = `  a.go:1\t0x1\tab\tMOVD ${unit.repeat(n / unit.length)}`;
          return () => checkTokens(line);
        }, 10_000);
      }
    });

    it('one 10 MB line tokenizes', () => {
      checkTokens(pathologicalLine('hex', 10e6));
    });
  });

  describe('the hover', () => {
    let index: ListingIndex;
    before(async () => {
      index = await ListingIndex.build(lineSource(realLines));
    });

    it('random lines and cursors (5,000): a hover covers the cursor, has text, and finds what a scan of the whole line finds', () => {
      const lineArb = fc.oneof(anyLine, mutatedLine(), fc.array(fc.oneof(fc.nat().map((i) => realLines[i % realLines.length]), tokenLine), { maxLength: 40 }).map((p) => p.join(' ')));
      fc.assert(
        fc.property(lineArb, fc.nat(), (line, c) => {
          const character = c % (line.length + 1);
          assert.deepEqual(sysregOperandAt(line, character), operandAtByFullScan(line, character));
          const hover = hoverAt(line, character, index);
          if (!hover) return;
          assert.ok(hover.start <= character && character <= hover.end && hover.end <= line.length);
          assert.match(hover.markdown, /^\*\*[^*\s]+\*\*/, 'starts with a register or function name');
          assert.doesNotMatch(hover.markdown, /NaN|Infinity|\*\*undefined\*\*|`undefined`|0xundefined/);
        }),
        params(5_000, 15),
      );
    });

    it('pathological lines: a hover costs the same on a 10× longer line, and answers on 10 MB lines', () => {
      for (const kind of Object.keys(PATHOLOGICAL)) {
        assertScales(`hover on a ${kind} line`, (n) => {
          const line = pathologicalLine(kind, n);
          const at = [0, 30, 45, n >> 1, n - 1, n];
          return () => {
            for (const c of at) hoverAt(line, c, index);
          };
        }, 100_000);
        const line = pathologicalLine(kind, 10e6);
        for (const c of [0, 40, 5e6, 10e6 - 1, 10e6]) {
          const hover = hoverAt(line, c, index);
          if (hover) assert.ok(hover.start <= c && c <= hover.end);
        }
      }
    });
  });

  describe('the ELF reader', () => {
    it('truncated at every structurally interesting offset and at 300 random ones: a NotElfError or a valid result', () => {
      const shoff = Number(elf.readBigUInt64LE(40));
      const offsets = new Set<number>();
      for (let o = 0; o <= 64; o++) offsets.add(o);
      for (let i = 0; i <= elfInfo.sections.length; i++) for (const d of [-1, 0, 1, 4, 24, 32, 40, 63]) offsets.add(shoff + i * 64 + d);
      for (const s of elfInfo.sections) if (s.type !== 8) for (const o of [s.offset, s.offset + 1, s.offset + s.size - 1, s.offset + s.size]) offsets.add(o);
      const symtab = elfInfo.sections[interesting.symtab];
      for (let k = 0; k < 8; k++) offsets.add(symtab.offset + k * 24 + 23).add(symtab.offset + symtab.size - k * 24 - 1);
      const pick = random(SEED + 16);
      for (let i = 0; i < runs(300); i++) offsets.add(Math.floor(pick() * elf.length));
      const counts = { ok: 0, error: 0 };
      for (const cut of [...offsets].filter((o) => o >= 0 && o <= elf.length)) {
        const r = parseElf(elf.subarray(0, cut), `cut-${cut}`);
        counts[checkElfOutcome(r, `cut-${cut}`)]++;
        // Cut before the section table's end or inside a table it reads: an error; else all of it.
        const needed = Math.max(...[elfInfo.sections[interesting.shstrndx], symtab, elfInfo.sections[interesting.strtab]].map((s) => s.offset + s.size), shoff + 64 * elfInfo.sections.length);
        if (cut >= needed) assert.deepEqual(r.functions, elfFunctions);
        else assert.ok(r.error, `cut at ${cut} of ${needed} needed bytes`);
      }
      assert.ok(counts.ok > 0 && counts.error > 100);
    });

    it('random byte flips (5,000) in the header, the section table, the symbol and string tables: a NotElfError or a valid result', () => {
      const shoff = Number(elf.readBigUInt64LE(40));
      const table = (i: number) => [elfInfo.sections[i].offset, elfInfo.sections[i].size] as const;
      const regions = [[0, 64], [shoff, 64 * elfInfo.sections.length], table(interesting.symtab), table(interesting.strtab), table(interesting.shstrndx)] as const;
      fc.assert(
        fc.property(fc.array(fc.record({ region: fc.nat(regions.length - 1), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }), (flips) => {
          const edits = flips.map((f) => ({ at: regions[f.region][0] + (f.at % regions[f.region][1]), data: Buffer.from([f.value]) }));
          withEdits(elf, edits, () => checkElfOutcome(parseElf(elf, 'flipped'), 'flipped'));
        }),
        params(5_000, 17),
      );
    });

    it('hostile values (3,000): huge offsets and sizes, e_shnum, e_shentsize, sh_link out of range, string tables without NUL', () => {
      const counts = { ok: 0, error: 0 };
      fc.assert(
        fc.property(hostileArb, (h) => {
          counts[withEdits(elf, hostileEdits(h), () => checkElfOutcome(parseElf(elf, 'hostile'), 'hostile'))]++;
        }),
        params(3_000, 18),
      );
      assert.ok(counts.ok > 0 && counts.error > 0, JSON.stringify(counts));
    });

    it('files (60 truncated, flipped or hostile ELFs): readElfSections, readElfFunctions and factsFromBinary give an Error naming the file, or facts', () => {
      const address = parseInstructionLine(realLines.find((l) => l.includes('MRS $18052'))!)!.address;
      const real = factsFromBinary(binary, address);
      assert.equal(real.instruction?.text, 'MRS $18052, R10');
      assert.match(real.symbol ?? '', /kvm\.bluepill$/);
      const pick = random(SEED + 19);
      const hostile = fc.sample(hostileArb, { seed: SEED + 20, numRuns: runs(30) });
      const shoff = Number(elf.readBigUInt64LE(40));
      const cases: Array<() => Buffer> = [
        ...Array.from({ length: runs(15) }, () => {
          const cut = Math.floor(pick() * elf.length);
          return () => Buffer.from(elf.subarray(0, cut));
        }),
        ...Array.from({ length: runs(15) }, () => {
          const flips = Array.from({ length: 4 }, () => ({ at: pick() < 0.5 ? Math.floor(pick() * 64) : shoff + Math.floor(pick() * 64 * elfInfo.sections.length), value: Math.floor(pick() * 256) }));
          return () => {
            const b = Buffer.from(elf);
            for (const f of flips) b[f.at] = f.value;
            return b;
          };
        }),
        ...hostile.map((h) => () => {
          const b = Buffer.from(elf);
          for (const e of hostileEdits(h)) e.data.copy(b, e.at);
          return b;
        }),
      ];
      const counts = { ok: 0, error: 0 };
      cases.forEach((make, i) => {
        const file = path.join(tmp, `case-${i}.elf`); // a name per case: cachedElfFunctions keeps each file's symbols
        fs.writeFileSync(file, make());
        for (const read of [() => readElfSections(file), () => readElfFunctions(file), () => factsFromBinary(file, address)]) {
          let error: unknown;
          try {
            read();
          } catch (e) {
            error = e;
          }
          if (error === undefined) {
            counts.ok++;
            continue;
          }
          counts.error++;
          const e = error as Error;
          assert.ok(e instanceof NotElfError || e.constructor === Error, `${e?.constructor?.name}: ${e?.message}`);
          assert.ok(e.message.includes(file), e.message);
        }
        fs.rmSync(file);
      });
      assert.ok(counts.error > 0 && counts.ok > 0, JSON.stringify(counts));
    });
  });
});
