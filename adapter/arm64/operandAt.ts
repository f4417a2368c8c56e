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

/**
 * How far from the cursor a hover looks. A move and its operands are a few dozen characters;
 * looking only this far keeps a hover on a 10 MB line (a minified or corrupt listing) as cheap
 * as on a short one, where scanning the whole line for moves took tens of milliseconds.
 */
const REACH = 1024;

export function sysregOperandAt(line: string, character: number): OperandAt | undefined {
  const from = Math.max(0, character - REACH);
  const to = Math.min(line.length, character + REACH);
  const window = line.slice(from, to);
  for (const { re, group, direction } of MOVES) {
    re.lastIndex = 0;
    for (let m = re.exec(window); m && m.index <= character - from; m = re.exec(window)) {
      // A match touching a cut edge of the window may not be one in the whole line (\b, a longer name).
      if ((m.index === 0 && from > 0 && /\w/.test(line[from - 1])) || (m.index + m[0].length === window.length && to < line.length)) continue;
      const start = from + m.index + m[0].indexOf(m[group], m[1].length);
      const end = start + m[group].length;
      if (character < start || character > end) continue;
      const field = parseOperand(m[group]);
      if (field !== undefined) return { start, end, text: m[group], field, direction };
    }
  }
  return undefined;
}
