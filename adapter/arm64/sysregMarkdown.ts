// The Markdown a hover or an explanation shows for a system register.
import { genericName } from './encoding';
import { accessSummary, nameFor, sysregInfo } from './sysregs';
import { EL0_MEASURED_ON, el0Outcome, measured } from './el0Access';
import { EL0_ACCESS_SOURCE } from './el0Access.generated';
import { layoutFor, layoutSummary } from './sysregFields';
import { SYSREG_FIELDS_SOURCE } from './sysregFields.generated';

export function sysregMarkdown(field: number, direction?: 'mrs' | 'msr', raw?: string): string {
  const info = sysregInfo(field);
  const f = info.fields;
  const name = direction ? nameFor(field, direction) : info.mrsName || info.msrName || info.generic;
  const how = direction === 'mrs' ? ' (read with MRS)' : direction === 'msr' ? ' (written with MSR)' : '';
  const lines = [
    `**${name}**${how}`,
    '',
    `\`${raw ?? `$${field}`}\` = field ${field} = \`${genericName(field)}\` · op0 ${f.op0} · op1 ${f.op1} · CRn ${f.crn} · CRm ${f.crm} · op2 ${f.op2}`,
    '',
    `Access: ${accessSummary(info, direction)}${info.readOnly ? ' · read-only' : info.writeOnly ? ' · write-only' : ''}`,
  ];
  // Where Linux's outcome at EL0 was measured, say on what.
  if (measured(el0Outcome(field, direction ?? 'mrs'))) lines.push('', `At EL0: as measured on ${EL0_MEASURED_ON} (QEMU ${/\d+\.\d+(\.\d+)?/.exec(EL0_ACCESS_SOURCE.qemu)?.[0] ?? ''}, the repository's emulated board); a register of an optional feature may differ on another CPU.`);
  if (info.mrsName && info.msrName && info.mrsName !== info.msrName) lines.push('', `Read as ${info.mrsName}, written as ${info.msrName}.`);
  if (direction === 'msr' && info.readOnly) lines.push('', '⚠ An MSR to a read-only register is undefined: it traps.');
  if (direction === 'mrs' && info.writeOnly) lines.push('', '⚠ An MRS of a write-only register is undefined: it traps.');
  lines.push('', info.description);
  const layout = layoutFor(name);
  if (layout) lines.push('', `Fields (Linux ${SYSREG_FIELDS_SOURCE.version}, ${layout.layout.from ?? 'arch/arm64/tools/sysreg'}): ${layoutSummary(layout.layout)}`);
  return lines.join('\n');
}
