// Finds the system register operand under a cursor in a line of Go-syntax
// disassembly (`go tool objdump`, dlv), for hovers and "Explain".
import { parseOperand } from './parseSysreg';

export interface OperandAt {
  start: number;
  end: number;
  text: string;
  field: number;
  direction: 'mrs' | 'msr';
}

const MOVES = [
  // MRS <sysreg>, Rt
  { re: /\b(MRS)\s+(\$\d+|S[23]_[0-7]_C\d+_C\d+_[0-7]|[A-Za-z][A-Za-z0-9_]*)\s*,\s*(?:R\d+|RZR|ZR)\b/g, group: 2, direction: 'mrs' as const },
  // MSR Rt, <sysreg>
  { re: /\b(MSR)\s+(?:R\d+|RZR|ZR)\s*,\s*(\$\d+|S[23]_[0-7]_C\d+_C\d+_[0-7]|[A-Za-z][A-Za-z0-9_]*)/g, group: 2, direction: 'msr' as const },
];

export function sysregOperandAt(line: string, character: number): OperandAt | undefined {
  for (const { re, group, direction } of MOVES) {
    re.lastIndex = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const start = m.index + m[0].indexOf(m[group], m[1].length);
      const end = start + m[group].length;
      if (character < start || character > end) continue;
      const field = parseOperand(m[group]);
      if (field !== undefined) return { start, end, text: m[group], field, direction };
    }
  }
  return undefined;
}
