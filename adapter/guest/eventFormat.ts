// An events/SYSTEM/NAME/format file, compiled: where each field of the binary record sits, and
// its "print fmt" turned into a function that prints a record exactly as the kernel's own text
// (trace_pipe) does. Reading the binary ring buffer (trace_pipe_raw) spares the kernel the
// printing, which is what lost three events in four of a stuck guest's flood through trace_pipe;
// printing here, from the kernel's own format, keeps every reading of the text the same.
//
// The print fmt arguments are C expressions over REC->field: a small parser covers what trace
// events use (arithmetic, comparisons, ternaries, string literals, __print_symbolic,
// __print_flags, __print_hex, __print_array, __get_str). Anything else prints as "?".

export interface FormatField {
  name: string;
  /** The C type as declared, e.g. "unsigned long", "__u8". */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Elements of an array field (`__u8 insn[15]`), else undefined. */
  elements?: number;
}

export interface EventFormat {
  id: number;
  /** The event's name, e.g. kvm_exit. */
  name: string;
  fields: Map<string, FormatField>;
  /** The record's text, as trace_pipe prints it after "name: ". */
  print: (record: Buffer, at: number, size: number) => string;
}

type Value = bigint | string;
type Getter = (r: Buffer, at: number, size: number) => Value;

/** Parses and compiles one format file. Throws if it has no name, ID or fields. */
export function compileFormat(text: string): EventFormat {
  const name = /^name: (\S+)$/m.exec(text)?.[1];
  const id = /^ID: (\d+)$/m.exec(text)?.[1];
  if (!name || !id) throw new Error('not a trace event format: no name or ID line');
  const fields = new Map<string, FormatField>();
  for (const m of text.matchAll(/^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);/gm)) {
    const decl = /^(.*?)\s*(\w+)\s*(?:\[(\d*)\])?$/.exec(m[1].trim());
    if (!decl) continue;
    const size = Number(m[3]);
    const elements = decl[3] !== undefined ? Number(decl[3] || 0) || undefined : undefined;
    fields.set(decl[2], { name: decl[2], type: decl[1], offset: Number(m[2]), size, signed: m[4] === '1', elements });
  }
  const fmt = /^print fmt: "((?:[^"\\]|\\.)*)"(?:,\s*(.*))?$/m.exec(text);
  const print = fmt ? compilePrint(unescape(fmt[1]), fmt[2] ?? '', fields) : () => '';
  return { id: Number(id), name, fields, print };
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

// ---------------------------------------------------------------------------------------------
// The printf side: literal pieces and conversions, each conversion fed by one compiled argument.

interface Conversion {
  flags: string;
  /** 32 for %x/%u of an int, 64 with l, ll or z. */
  bits: 32 | 64;
  width: number;
  precision?: number;
  type: string;
}

function compilePrint(fmt: string, args: string, fields: Map<string, FormatField>): EventFormat['print'] {
  const pieces: (string | Conversion)[] = [];
  let literal = '';
  const re = /%([-0+ #]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|j|t)?([diouxXcsp%])/g;
  let last = 0;
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    literal += fmt.slice(last, m.index);
    last = re.lastIndex;
    if (m[5] === '%') {
      literal += '%';
      continue;
    }
    pieces.push(literal);
    literal = '';
    // %p and its extensions (%pI4...) print pointers: the kernel's hashing is not ours to copy.
    pieces.push({ flags: m[1], bits: m[4] && m[4] !== 'h' && m[4] !== 'hh' ? 64 : 32, width: Number(m[2] || 0), precision: m[3] !== undefined ? Number(m[3]) : undefined, type: m[5] });
  }
  pieces.push(literal + fmt.slice(last));
  const sources = splitTopLevel(args);
  const getters = sources.map((a) => compileExpression(a, fields));
  const parts: ((r: Buffer, at: number, size: number) => string)[] = [];
  let n = 0;
  for (const p of pieces) {
    if (typeof p === 'string') {
      if (p) parts.push(() => p);
      continue;
    }
    const source = sources[n];
    const get = getters[n++];
    parts.push(plainField(p, source, fields) ?? (get ? (r, at, size) => convert(p, get(r, at, size)) : () => '?'));
  }
  return (r, at, size) => {
    let out = '';
    for (const part of parts) out += part(r, at, size);
    return out;
  };
}

/**
 * The common case, `%x`/`%u`/`%d` of a bare REC->field: printed from the bytes with no BigInt
 * (a flood prints hundreds of thousands a second; BigInts were a third of the time, in garbage).
 */
function plainField(c: Conversion, source: string | undefined, fields: Map<string, FormatField>): ((r: Buffer, at: number) => string) | undefined {
  const name = source !== undefined ? /^\s*REC->(\w+)\s*$/.exec(source)?.[1] : undefined;
  const f = name !== undefined ? fields.get(name) : undefined;
  if (!f || f.elements !== undefined || c.flags.replace('0', '') !== '' || c.precision !== undefined) return undefined;
  const { offset, width } = { offset: f.offset, width: c.width };
  const pad = (s: string) => (s.length >= width ? s : c.flags === '0' ? s.padStart(width, '0') : s.padStart(width));
  const hex = c.type === 'x';
  if (!hex && c.type !== 'u' && !((c.type === 'd' || c.type === 'i') && (f.signed || f.size < 4))) return undefined;
  if (f.size === 8 && hex) {
    return (r, at) => {
      const lo = r.readUInt32LE(at + offset);
      const hi = r.readUInt32LE(at + offset + 4);
      return pad(hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16));
    };
  }
  if (f.size > 4 || (f.signed && c.type !== 'd' && c.type !== 'i')) return undefined;
  const read = f.size === 4 ? (f.signed ? (r: Buffer, at: number) => r.readInt32LE(at) : (r: Buffer, at: number) => r.readUInt32LE(at)) : f.size === 2 ? (f.signed ? (r: Buffer, at: number) => r.readInt16LE(at) : (r: Buffer, at: number) => r.readUInt16LE(at)) : f.signed ? (r: Buffer, at: number) => r.readInt8(at) : (r: Buffer, at: number) => r[at];
  return hex ? (r, at) => pad(read(r, at + offset).toString(16)) : (r, at) => pad(String(read(r, at + offset)));
}

function convert(c: Conversion, v: Value): string {
  let s: string;
  if (c.type === 's') s = typeof v === 'string' ? v : String(v);
  else if (typeof v === 'string') s = v;
  else if (c.type === 'c') s = String.fromCharCode(Number(v & 0xffn));
  else if (c.type === 'x' || c.type === 'p') s = unsigned(v, c.bits).toString(16);
  else if (c.type === 'X') s = unsigned(v, c.bits).toString(16).toUpperCase();
  else if (c.type === 'o') s = unsigned(v, c.bits).toString(8);
  else if (c.type === 'u') s = unsigned(v, c.bits).toString();
  else s = v.toString();
  // The kernel's vsnprintf, not C's: "%#x" prefixes 0x even to zero, and the width counts the prefix.
  const prefix = c.flags.includes('#') && (c.type === 'x' || c.type === 'X') ? (c.type === 'x' ? '0x' : '0X') : '';
  if (prefix.length + s.length >= c.width) return prefix + s;
  if (c.flags.includes('-')) return (prefix + s).padEnd(c.width);
  if (c.flags.includes('0') && c.type !== 's') return s.startsWith('-') ? `-${s.slice(1).padStart(c.width - 1, '0')}` : prefix + s.padStart(c.width - prefix.length, '0');
  return (prefix + s).padStart(c.width);
}

/** Negative values print as the unsigned number of the conversion's width (%x of an int is 32 bits). */
function unsigned(v: bigint, bits: 32 | 64 = 64): bigint {
  return v < 0n ? BigInt.asUintN(bits, v) : v;
}

/** Splits "a, f(b, c), d" at the commas outside parentheses, braces and string literals. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === '\\') i++;
    } else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  if (s.slice(from).trim()) out.push(s.slice(from));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The C expressions: tokens, then precedence climbing into closures over the record.

type Token = { kind: 'num'; value: bigint } | { kind: 'str'; value: string } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(0x[0-9a-fA-F]+|\d+)[uUlL]*|"((?:[^"\\]|\\.)*)"|'(\\?.)'|([A-Za-z_]\w*)|(->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*\/%&|^~!<>?:(){},\[\].]))/gy;
  for (let m = re.exec(s); m && m[0].length; m = re.exec(s)) {
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: BigInt(m[1]) });
    else if (m[2] !== undefined) {
      const prev = tokens.at(-1);
      // Adjacent literals are one string ("#" "DE").
      if (prev?.kind === 'str') prev.value += unescape(m[2]);
      else tokens.push({ kind: 'str', value: unescape(m[2]) });
    } else if (m[3] !== undefined) tokens.push({ kind: 'num', value: BigInt(unescape(m[3]).charCodeAt(0)) });
    else if (m[4] !== undefined) tokens.push({ kind: 'id', value: m[4] });
    else tokens.push({ kind: 'op', value: m[5] });
    if (re.lastIndex >= s.length) break;
  }
  return tokens;
}

const BINARY: Record<string, [precedence: number, apply: (a: bigint, b: bigint) => bigint]> = {
  '||': [1, (a, b) => (a || b ? 1n : 0n)],
  '&&': [2, (a, b) => (a && b ? 1n : 0n)],
  '|': [3, (a, b) => a | b],
  '^': [4, (a, b) => a ^ b],
  '&': [5, (a, b) => a & b],
  '==': [6, (a, b) => (a === b ? 1n : 0n)],
  '!=': [6, (a, b) => (a !== b ? 1n : 0n)],
  '<': [7, (a, b) => (a < b ? 1n : 0n)],
  '>': [7, (a, b) => (a > b ? 1n : 0n)],
  '<=': [7, (a, b) => (a <= b ? 1n : 0n)],
  '>=': [7, (a, b) => (a >= b ? 1n : 0n)],
  '<<': [8, (a, b) => a << b],
  '>>': [8, (a, b) => a >> b],
  '+': [9, (a, b) => a + b],
  '-': [9, (a, b) => a - b],
  '*': [10, (a, b) => a * b],
  '/': [10, (a, b) => (b === 0n ? 0n : a / b)],
  '%': [10, (a, b) => (b === 0n ? 0n : a % b)],
};

class UnsupportedExpression extends Error {}

/** One print fmt argument as a function of the record; "?" where the expression is beyond this parser. */
export function compileExpression(source: string, fields: Map<string, FormatField>): Getter {
  try {
    const p = new ExpressionParser(tokenize(source), fields);
    const get = p.ternary();
    if (!p.done()) throw new UnsupportedExpression(source);
    return get;
  } catch {
    return () => '?';
  }
}

const num = (v: Value): bigint => (typeof v === 'bigint' ? v : 0n);

class ExpressionParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly fields: Map<string, FormatField>,
  ) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  private peek(value?: string): Token | undefined {
    const t = this.tokens[this.i];
    return value === undefined || (t && t.kind === 'op' && t.value === value) ? t : undefined;
  }

  private expect(value: string): void {
    if (!this.peek(value)) throw new UnsupportedExpression(`expected ${value}`);
    this.i++;
  }

  ternary(): Getter {
    const cond = this.binary(1);
    if (!this.peek('?')) return cond;
    this.i++;
    const yes = this.ternary();
    this.expect(':');
    const no = this.ternary();
    return (r, at, size) => (truthy(cond(r, at, size)) ? yes(r, at, size) : no(r, at, size));
  }

  private binary(min: number): Getter {
    let left = this.unary();
    for (;;) {
      const t = this.tokens[this.i];
      const op = t?.kind === 'op' ? BINARY[t.value] : undefined;
      if (!op || op[0] < min) return left;
      this.i++;
      const right = this.binary(op[0] + 1);
      const l = left;
      const apply = op[1];
      left = (r, at, size) => apply(num(l(r, at, size)), num(right(r, at, size)));
    }
  }

  private unary(): Getter {
    const t = this.tokens[this.i];
    if (t?.kind === 'op' && (t.value === '-' || t.value === '~' || t.value === '!' || t.value === '+')) {
      this.i++;
      const v = this.unary();
      if (t.value === '-') return (r, at, size) => -num(v(r, at, size));
      if (t.value === '~') return (r, at, size) => ~num(v(r, at, size));
      if (t.value === '!') return (r, at, size) => (truthy(v(r, at, size)) ? 0n : 1n);
      return v;
    }
    return this.primary();
  }

  private primary(): Getter {
    const t = this.tokens[this.i++];
    if (!t) throw new UnsupportedExpression('end of expression');
    if (t.kind === 'num') return () => t.value;
    if (t.kind === 'str') return () => t.value;
    if (t.kind === 'op' && t.value === '(') {
      // A cast such as (u32) or (unsigned long): skipped, the value is already its field's width.
      const save = this.i;
      while (this.tokens[this.i]?.kind === 'id' || this.peek('*')) this.i++;
      if (this.i > save && this.peek(')') && this.tokens[save].kind === 'id' && !this.fields.has((this.tokens[save] as { value: string }).value) && (this.tokens[save] as { value: string }).value !== 'REC') {
        this.i++;
        return this.unary();
      }
      this.i = save;
      const inner = this.ternary();
      this.expect(')');
      return inner;
    }
    if (t.kind === 'id' && t.value === 'REC') {
      this.expect('->');
      const name = this.tokens[this.i++];
      const field = name?.kind === 'id' ? this.fields.get(name.value) : undefined;
      if (!field) throw new UnsupportedExpression('unknown field');
      return fieldReader(field);
    }
    if (t.kind === 'id' && this.peek('(')) return this.call(t.value);
    throw new UnsupportedExpression(`unexpected ${t.value}`);
  }

  private call(fn: string): Getter {
    this.expect('(');
    if (fn === '__print_symbolic' || fn === '__print_flags') {
      const value = this.ternary();
      let separator = '';
      if (fn === '__print_flags') {
        this.expect(',');
        const sep = this.tokens[this.i++];
        if (sep?.kind !== 'str') throw new UnsupportedExpression('flags separator');
        separator = sep.value;
      }
      const table: [bigint, string][] = [];
      while (this.peek(',')) {
        this.i++;
        this.expect('{');
        // An empty table, `{ }`: every value prints in hex.
        if (this.peek('}')) {
          this.i++;
          continue;
        }
        const key = this.ternary()(Buffer.alloc(0), 0, 0);
        this.expect(',');
        const label = this.tokens[this.i++];
        if (label?.kind !== 'str' || typeof key !== 'bigint') throw new UnsupportedExpression('table entry');
        this.expect('}');
        table.push([key, label.value]);
      }
      this.expect(')');
      return fn === '__print_symbolic' ? symbolic(value, table) : flags(value, separator, table);
    }
    if (fn === '__print_hex' || fn === '__print_hex_str' || fn === '__print_array') {
      const array = this.arrayField();
      this.expect(',');
      const count = this.ternary();
      let elementSize: Getter = () => 1n;
      if (fn === '__print_array') {
        this.expect(',');
        elementSize = this.ternary();
      }
      this.expect(')');
      return (r, at, size) => {
        const { offset, length } = array(r, at, size);
        const n = Number(num(count(r, at, size)));
        const el = Number(num(elementSize(r, at, size))) || 1;
        if (fn === '__print_array') {
          const items: string[] = [];
          for (let k = 0; k < n && (k + 1) * el <= length; k++) items.push(`0x${readUnsigned(r, at + offset + k * el, el).toString(16)}`);
          return `{${items.join(',')}}`;
        }
        const bytes: string[] = [];
        for (let k = 0; k < Math.min(n, length); k++) bytes.push(r[at + offset + k].toString(16).padStart(2, '0'));
        return bytes.join(fn === '__print_hex' ? ' ' : '');
      };
    }
    if (fn === '__get_str') {
      const array = this.arrayField();
      this.expect(')');
      return (r, at, size) => {
        const { offset, length } = array(r, at, size);
        const end = r.indexOf(0, at + offset);
        return r.toString('latin1', at + offset, end < 0 || end > at + offset + length ? at + offset + length : end);
      };
    }
    throw new UnsupportedExpression(fn);
  }

  /** REC->arr (a fixed array) or a __data_loc field name: where its bytes are in the record. */
  private arrayField(): (r: Buffer, at: number, size: number) => { offset: number; length: number } {
    const first = this.tokens[this.i++];
    let name: Token | undefined = first;
    if (first?.kind === 'id' && first.value === 'REC') {
      this.expect('->');
      name = this.tokens[this.i++];
    }
    const field = name?.kind === 'id' ? this.fields.get(name.value) : undefined;
    if (!field) throw new UnsupportedExpression('array field');
    if (field.type.startsWith('__data_loc')) {
      // A dynamic array: a u32 whose low half is the offset in the record and high half the length.
      return (r, at) => {
        const loc = r.readUInt32LE(at + field.offset);
        return { offset: loc & 0xffff, length: loc >>> 16 };
      };
    }
    return () => ({ offset: field.offset, length: field.size });
  }
}

function truthy(v: Value): boolean {
  return typeof v === 'string' ? v.length > 0 : v !== 0n;
}

function symbolic(value: Getter, table: [bigint, string][]): Getter {
  const names = new Map(table);
  return (r, at, size) => {
    const v = num(value(r, at, size));
    // The kernel prints an unknown value in hex.
    return names.get(v) ?? `0x${unsigned(v).toString(16)}`;
  };
}

function flags(value: Getter, separator: string, table: [bigint, string][]): Getter {
  return (r, at, size) => {
    let v = num(value(r, at, size));
    const out: string[] = [];
    for (const [mask, label] of table) {
      if (mask === 0n && v === 0n) {
        out.push(label);
        break;
      }
      if (mask !== 0n && (v & mask) === mask) {
        out.push(label);
        v &= ~mask;
      }
    }
    if (v !== 0n) out.push(`0x${unsigned(v).toString(16)}`);
    return out.join(separator);
  };
}

function readUnsigned(r: Buffer, at: number, size: number): bigint {
  switch (size) {
    case 1:
      return BigInt(r[at]);
    case 2:
      return BigInt(r.readUInt16LE(at));
    case 4:
      return BigInt(r.readUInt32LE(at));
    case 8:
      return r.readBigUInt64LE(at);
    default:
      return 0n;
  }
}

function fieldReader(f: FormatField): Getter {
  const { offset, size } = f;
  if (f.elements !== undefined) return () => '?';
  if (f.signed) {
    switch (size) {
      case 1:
        return (r, at) => BigInt(r.readInt8(at + offset));
      case 2:
        return (r, at) => BigInt(r.readInt16LE(at + offset));
      case 4:
        return (r, at) => BigInt(r.readInt32LE(at + offset));
      case 8:
        return (r, at) => r.readBigInt64LE(at + offset);
    }
  }
  return (r, at) => readUnsigned(r, at + offset, size);
}
