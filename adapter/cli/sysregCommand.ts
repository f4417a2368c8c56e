// `bluepill-lens sysreg VALUE...`: explains system register spellings, for people or
// (--json) scripts; `--all --tsv` dumps every 15-bit field.
import { accessSummary, nameFor, sysregInfo, type SysregInfo } from '../arm64/sysregs';
import { parseSysreg, SysregParseError, type ParsedSysreg } from '../arm64/parseSysreg';
import { genericName } from '../arm64/encoding';
import { valueDecoderFor } from '../arm64/valueFields';
import { SYSREG_FIELDS_SOURCE } from '../arm64/sysregFields.generated';
import { parseFlags } from './flags';

export function sysregCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const parsed = parseFlags(args, ['value'], ['json', 'all', 'tsv']);
  if (typeof parsed === 'string') return fail(err, parsed);
  const { flags, positional } = parsed;
  if (flags.all) {
    if (!flags.tsv) return fail(err, '--all prints a table: add --tsv.');
    writeAllTsv(out);
    return 0;
  }
  if (positional.length === 0) return fail(err, 'give at least one value, e.g. `bluepill-lens sysreg \'$18052\' S3_0_C13_C0_4 TPIDR_EL1 0xd538d092`.');
  if (flags.value !== undefined) return decodeValue(positional, String(flags.value), flags.json === true, out, err);
  const results: unknown[] = [];
  let failures = 0;
  for (const value of positional) {
    try {
      const p = parseSysreg(value);
      if (flags.json) results.push(toJson(p));
      else out.write(toText(p) + '\n');
    } catch (e) {
      if (!(e instanceof SysregParseError)) throw e;
      failures++;
      if (flags.json) results.push({ input: value, error: e.message });
      else err.write(`bluepill-lens: ${e.message}\n`);
    }
  }
  if (flags.json) out.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
  return failures ? 1 : 0;
}

function toJson(p: ParsedSysreg): unknown {
  if (p.kind === 'pstate') return { input: p.spelling, kind: 'pstate', name: p.name, imm: p.imm };
  const info = sysregInfo(p.field);
  return { input: p.spelling, kind: 'sysreg', direction: p.direction, rt: p.rt, name: p.direction ? nameFor(p.field, p.direction) : info.mrsName || info.msrName || info.generic, ...info };
}

function toText(p: ParsedSysreg): string {
  if (p.kind === 'pstate') return `${p.spelling}: PSTATE field ${p.name}${p.imm !== undefined ? `, immediate ${p.imm}` : ''}, written with MSR (immediate)`;
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
    `  access: ${accessSummary(info)}${access}`,
    `  ${info.description}`,
  ];
  if (info.binutilsDiffers) lines.push(`  note: binutils disagrees (${Object.entries(info.binutilsDiffers).map(([d, n]) => `${d}: ${n}`).join(', ')}); LLVM's name is used`);
  return lines.join('\n');
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
function decodeValue(positional: string[], valueText: string, json: boolean, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (positional.length !== 1) return fail(err, 'with --value, name one register, e.g. `bluepill-lens sysreg ESR_EL1 --value 0x56000000`.');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(valueText)) return fail(err, `--value wants a number (hex with 0x, or decimal); got "${valueText}".`);
  let name = positional[0];
  try {
    const p = parseSysreg(name);
    if (p.kind === 'sysreg') name = nameFor(p.field, p.direction ?? 'mrs');
  } catch {
    // PSTATE and CPSR are not system register encodings: keep the name as given.
  }
  const decoder = valueDecoderFor(name);
  if (!decoder) return fail(err, `no field layout for ${name}: Linux's arch/arm64/tools/sysreg (${SYSREG_FIELDS_SOURCE.package} ${SYSREG_FIELDS_SOURCE.version}) does not describe it; PSTATE, CPSR, SPSR_ELx, ESR_ELx, CurrentEL, MIDR_EL1, TCR_EL1 and the registers it describes are decoded.`);
  const decoded = decoder(BigInt(valueText));
  if (json) out.write(JSON.stringify(decoded, null, 2) + '\n');
  else out.write([`${decoded.register} = ${valueText}: ${decoded.summary}`, ...decoded.fields.map((f) => `  ${f.name.padEnd(6)} ${f.value}${f.meaning ? `  ${f.meaning}` : ''}`)].join('\n') + '\n');
  return 0;
}

function fail(err: NodeJS.WritableStream, message: string): number {
  err.write(`bluepill-lens sysreg: ${message}\n`);
  return 2;
}
