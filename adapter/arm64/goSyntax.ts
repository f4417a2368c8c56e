// Rewrites Go-syntax MRS/MSR instruction text so the register is named and the raw
// operand stays visible:  MRS $18052, R18  ->  MRS TPIDR_EL1, R18  // $18052 · EL1 only
// Used by the proxy (disassemble responses), the CLI's annotate and the editor.
import { accessShort, isNamed, nameFor, sysregInfo } from './sysregs';
import { el0PstateOutcome } from './el0Access';
import { parseOperand } from './parseSysreg';

const MRS = /^MRS\s+(\$\d+|S[23]_[0-7]_C\d+_C\d+_[0-7]|\w+),\s*(R\d+|RZR|ZR)\s*$/;
const MSR = /^MSR\s+(R\d+|RZR|ZR),\s*(\$\d+|S[23]_[0-7]_C\d+_C\d+_[0-7]|\w+)\s*$/;
const MSR_IMM = /^MSR\s+\$(\d+),\s*(DAIFSet|DAIFClr|\w+)\s*$/i;

/** Returns the annotated instruction, or undefined when there is nothing to add. */
export function annotateInstruction(instruction: string): string | undefined {
  let m = MRS.exec(instruction);
  if (m) return rewrite('mrs', m[1], (name) => `MRS ${name}, ${m![2]}`);
  m = MSR_IMM.exec(instruction);
  if (m) return daifNote(instruction, m[2], Number(m[1]));
  m = MSR.exec(instruction);
  if (m) return rewrite('msr', m[2], (name) => `MSR ${m![1]}, ${name}`);
  return undefined;
}

function rewrite(direction: 'mrs' | 'msr', raw: string, build: (name: string) => string): string | undefined {
  const field = parseOperand(raw);
  if (field === undefined) return undefined;
  const info = sysregInfo(field);
  const name = nameFor(field, direction);
  const notes = [raw === name ? undefined : raw, accessShort(info, direction)];
  if (isNamed(field) && ((direction === 'mrs' && info.writeOnly) || (direction === 'msr' && info.readOnly))) {
    notes.push(direction === 'mrs' ? 'write-only register' : 'read-only register');
  }
  return `${build(name)}  // ${notes.filter(Boolean).join(' · ')}`;
}

function daifNote(instruction: string, field: string, imm: number): string | undefined {
  const upper = field.toUpperCase();
  // The immediate is 4 bits (CRm); the note follows the instruction, not its trailing white space.
  if ((upper !== 'DAIFSET' && upper !== 'DAIFCLR') || imm > 15) return undefined;
  const masks = ['D', 'A', 'I', 'F'].filter((_, i) => imm & (8 >> i)).join('') || 'nothing';
  const linux = el0PstateOutcome(upper) === 'sigill' ? ' · SIGILL on Linux' : '';
  return `${instruction.trimEnd()}  // ${upper === 'DAIFSET' ? 'mask' : 'unmask'} ${masks}${linux}`;
}
