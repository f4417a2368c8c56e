// The objdump hover of extension/objdumpHover.ts without vscode, for the fuzz tests and
// bench/hover.mjs: the system register operand under the cursor (adapter/arm64/operandAt),
// else the 0x... word under it looked up in the listing's index (adapter/explain/addressInfo).
// The word is found the way VS Code's getWordRangeAtPosition finds it: only within
// 500 characters either side of the cursor (its wordHelper's maxLen of 1000).
import { sysregOperandAt } from '../../adapter/arm64/operandAt';
import { sysregMarkdown } from '../../adapter/arm64/sysregMarkdown';
import { addressMarkdown } from '../../adapter/explain/addressInfo';
import type { ListingIndex } from '../../adapter/explain/listingIndex';

export interface HoverResult {
  start: number;
  end: number;
  markdown: string;
}

const WORD_REACH = 500;

export function addressWordAt(line: string, character: number): { start: number; end: number } | undefined {
  const from = Math.max(0, character - WORD_REACH);
  const window = line.slice(from, character + WORD_REACH);
  const re = /0x[0-9a-fA-F]+/g;
  for (let m = re.exec(window); m && m.index <= character - from; m = re.exec(window)) {
    const start = from + m.index;
    const end = start + m[0].length;
    if (start <= character && character <= end) return { start, end };
  }
  return undefined;
}

export function hoverAt(line: string, character: number, index: ListingIndex): HoverResult | undefined {
  const operand = sysregOperandAt(line, character);
  if (operand) return { start: operand.start, end: operand.end, markdown: sysregMarkdown(operand.field, operand.direction, operand.text) };
  const word = addressWordAt(line, character);
  if (!word) return undefined;
  const markdown = addressMarkdown(index, Number(line.slice(word.start, word.end)));
  return markdown ? { ...word, markdown } : undefined;
}

/** Lines no listing should hold, after the start of a real instruction line: each a long run of one thing. */
export const PATHOLOGICAL: Record<string, { prefix: string; unit: string }> = {
  hex: { prefix: '  bluepill.go:53\t0xca6b0\t\t', unit: 'f' },
  address: { prefix: '  bluepill.go:53\t0x', unit: '95c6d8' },
  digits: { prefix: '  bluepill.go:53\t0xca6b0\t\tf9400b90\t\tMOVD $', unit: '9' },
  dollars: { prefix: '  bluepill.go:53\t0xca6b0\t\tf9400b90\t\tMOVD ', unit: '$' },
  spaces: { prefix: '  bluepill.go:53\t0xca6b0\t\td538d08a\t\tMRS ', unit: ' ' },
  parentheses: { prefix: '  bluepill.go:53\t0xca6b0\t\tf9400b90\t\tCALL ', unit: '(a' },
  moves: { prefix: '  bluepill_arm64.s:87\t0x95c6d8\t\td538d08a\t\t', unit: 'MRS $18052, R10 MSR R1, S3_0_C13_C0_4 ' },
  symbol: { prefix: '  bluepill.go:55\t0xca6e4\t\t94000043\t\tCALL ', unit: 'kvm.(*vCPU)/' },
  text: { prefix: 'TEXT ', unit: ' ' },
};

export function pathologicalLine(kind: string, length: number): string {
  const { prefix, unit } = PATHOLOGICAL[kind];
  return (prefix + unit.repeat(Math.ceil(Math.max(0, length - prefix.length) / unit.length))).slice(0, length);
}
