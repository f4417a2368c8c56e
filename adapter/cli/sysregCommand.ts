// `bluepill-lens sysreg VALUE...`: explains system register spellings, for people or
// (--json) scripts; `--all --tsv` dumps every 15-bit field.
import { accessSummary, nameFor, sysregInfo, type SysregInfo } from '../arm64/sysregs';
import { parseSysreg, SysregParseError, type ParsedSysreg } from '../arm64/parseSysreg';
import { genericName } from '../arm64/encoding';
import { valueDecoderFor } from '../arm64/valueFields';
import { SYSREG_FIELDS_SOURCE } from '../arm64/sysregFields.generated';
import { CliError, UsageError, type CliCommand } from './command';
import { jsonText, printable } from './terminalText';

export const sysregCommand: CliCommand = {
  name: 'sysreg',
  summary: "Name ARM64 system registers from any spelling, or decode a register's value.",
  synopsis: 'VALUE... [--json] | NAME --value V [--json] | --all (--tsv | --json)',
  help: `sysreg VALUE...      Name ARM64 system registers from any spelling: '$18052', 18052,
                     S3_0_C13_C0_4, TPIDR_EL1, 0xd538d092, 92d038d5 (dlv's bytes),
                     'MRS $18052, R18', 'MSR R10, S3_0_C13_C0_4', 'MSR $2, DAIFSet'.
sysreg NAME --value V
                     Decode a register value field by field: every register Linux's
                     arch/arm64/tools/sysreg describes, MIDR_EL1 (the CPU named), TCR_EL1,
                     PSTATE/SPSR (EL0t, EL1h, DAIF, NZCV), ESR_ELx (the exception class),
                     CurrentEL.
sysreg --all --tsv   Every 15-bit field: field, generic, mrs_name, msr_name, min_el.
sysreg --all --json  The same as JSON.
--json               Always one JSON array: one object per VALUE (an {"input", "error"}
                     object for one that cannot be read), the decoded value of --value,
                     or every field of --all ({"field", "generic", "mrsName", "msrName", "minEl"}).`,
  options: { value: { type: 'string' }, json: { type: 'boolean' }, all: { type: 'boolean' }, tsv: { type: 'boolean' } },
  maxPositionals: Infinity,
  run({ values, positionals }, { out, err }) {
    const json = values.json === true;
    if (values.all) {
      if (positionals.length || values.value !== undefined) throw new UsageError('--all lists every field: give no VALUE and no --value with it.');
      if (json && values.tsv === true) throw new UsageError('--all prints one table: give --tsv or --json, not both.');
      if (!json && values.tsv !== true) throw new UsageError('--all prints a table: add --tsv (tab-separated) or --json.');
      if (json) out.write(jsonText(allFields()));
      else writeAllTsv(out);
      return 0;
    }
    if (values.tsv) throw new UsageError('--tsv goes with --all.');
    if (positionals.length === 0) throw new UsageError("give at least one value, e.g. `bluepill-lens sysreg '$18052' S3_0_C13_C0_4 TPIDR_EL1 0xd538d092`.");
    if (values.value !== undefined) return decodeValue(positionals, String(values.value), json, out);
    const results: unknown[] = [];
    let failures = 0;
    for (const value of positionals) {
      try {
        const p = parseSysreg(value);
        if (json) results.push(toJson(p));
        else out.write(toText(p).split('\n').map(printable).join('\n') + '\n');
      } catch (e) {
        if (!(e instanceof SysregParseError)) throw e;
        failures++;
        if (json) results.push({ input: value, error: e.message });
        else err.write(`bluepill-lens sysreg: ${printable(e.message)}\n`);
      }
    }
    if (json) out.write(jsonText(results));
    return failures ? 1 : 0;
  },
};

function toJson(p: ParsedSysreg): unknown {
  const alsoAsWord = p.alsoAsWord === undefined ? {} : { alsoAsWord: hexWord(p.alsoAsWord) };
  if (p.kind === 'pstate') return { input: p.spelling, kind: 'pstate', name: p.name, imm: p.imm, ...alsoAsWord };
  const info = sysregInfo(p.field);
  return { input: p.spelling, kind: 'sysreg', direction: p.direction, rt: p.rt, name: p.direction ? nameFor(p.field, p.direction) : info.mrsName || info.msrName || info.generic, ...info, ...alsoAsWord };
}

const hexWord = (w: number) => `0x${w.toString(16).padStart(8, '0')}`;

/** Eight bare hex digits are read as dlv's bytes; where they are an MRS/MSR as a word too, the other reading. */
function otherReading(p: ParsedSysreg): string | undefined {
  if (p.alsoAsWord === undefined) return undefined;
  const other = parseSysreg(hexWord(p.alsoAsWord));
  const what = other.kind === 'pstate' ? `MSR ${other.name}, #${other.imm}` : `${other.direction!.toUpperCase()} ${nameFor(other.field, other.direction!)}${other.rt !== undefined ? `, X${other.rt}` : ''}`;
  return `  note: read as dlv's bytes (memory order); as the instruction word ${hexWord(p.alsoAsWord)} it is ${what}: give ${hexWord(p.alsoAsWord)} for that`;
}

function toText(p: ParsedSysreg): string {
  const note = otherReading(p);
  if (p.kind === 'pstate') return `${p.spelling}: PSTATE field ${p.name}${p.imm !== undefined ? `, immediate ${p.imm}` : ''}, written with MSR (immediate)${note ? `\n${note}` : ''}`;
  const info: SysregInfo = sysregInfo(p.field);
  const f = info.fields;
  const names =
    info.mrsName && info.msrName && info.mrsName !== info.msrName
      ? `${info.mrsName} (read) / ${info.msrName} (written)`
      : info.mrsName || info.msrName || '(no name: implementation defined or unallocated)';
  const access = info.readOnly ? ', read-only' : info.writeOnly ? ', write-only' : '';
  const lines = [
    `${p.spelling}: ${names}${p.direction ? `  [${p.direction.toUpperCase()} ${nameFor(p.field, p.direction)}${p.rt !== undefined ? `, X${p.rt}` : ''}]` : ''}`,
    `  field ${info.field} = ${info.generic} (op0 ${f.op0}, op1 ${f.op1}, CRn ${f.crn}, CRm ${f.crm}, op2 ${f.op2})`,
    `  access: ${accessSummary(info, p.direction ?? 'mrs')}${access}`,
    `  ${info.description}`,
  ];
  if (note) lines.push(note);
  if (info.binutilsDiffers) lines.push(`  note: binutils disagrees (${Object.entries(info.binutilsDiffers).map(([d, n]) => `${d}: ${n}`).join(', ')}); LLVM's name is used`);
  return lines.join('\n');
}

function allFields(): unknown[] {
  return Array.from({ length: 1 << 15 }, (_, field) => {
    const info = sysregInfo(field);
    return { field, generic: genericName(field), mrsName: info.mrsName, msrName: info.msrName, minEl: info.minEl };
  });
}

function writeAllTsv(out: NodeJS.WritableStream): void {
  const rows = ['field\tgeneric\tmrs_name\tmsr_name\tmin_el'];
  for (let field = 0; field < 1 << 15; field++) {
    const info = sysregInfo(field);
    rows.push(`${field}\t${genericName(field)}\t${info.mrsName}\t${info.msrName}\t${info.minEl}`);
  }
  out.write(rows.join('\n') + '\n');
}

/** `sysreg NAME --value V`: the fields of a register value (any register Linux describes, PSTATE/SPSR, ESR, CurrentEL). */
function decodeValue(positional: string[], valueText: string, json: boolean, out: NodeJS.WritableStream): number {
  if (positional.length !== 1) throw new UsageError('with --value, name one register, e.g. `bluepill-lens sysreg ESR_EL1 --value 0x56000000`.');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(valueText)) throw new UsageError(`--value wants a number (hex with 0x, or decimal); got "${printable(valueText)}".`);
  if (BigInt(valueText) >> 64n) throw new UsageError(`--value ${printable(valueText)} is wider than 64 bits: a system register holds 64.`);
  let name = positional[0];
  try {
    const p = parseSysreg(name);
    if (p.kind === 'sysreg') name = nameFor(p.field, p.direction ?? 'mrs');
  } catch {
    // PSTATE and CPSR are not system register encodings: keep the name as given.
  }
  const decoder = valueDecoderFor(name);
  if (!decoder) throw new CliError(`no field layout for ${printable(name)}: Linux's arch/arm64/tools/sysreg (${SYSREG_FIELDS_SOURCE.package} ${SYSREG_FIELDS_SOURCE.version}) does not describe it; PSTATE, CPSR, SPSR_ELx, ESR_ELx, CurrentEL, MIDR_EL1, TCR_EL1 and the registers it describes are decoded.`);
  const decoded = decoder(BigInt(valueText));
  if (json) out.write(jsonText([decoded]));
  else out.write([`${decoded.register} = ${valueText}: ${decoded.summary}`, ...decoded.fields.map((f) => `  ${f.name.padEnd(6)} ${f.value}${f.meaning ? `  ${f.meaning}` : ''}`)].join('\n') + '\n');
  return 0;
}
