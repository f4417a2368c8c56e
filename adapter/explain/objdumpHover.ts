// What a hover in a go-objdump listing shows, without vscode: the system register operand
// under the cursor, else the 0x... address under it looked up in the listing's index.
// The extension's hover provider, the fuzz tests and bench/hover.mjs all call this.
import { sysregOperandAt } from '../arm64/operandAt';
import { sysregMarkdown } from '../arm64/sysregMarkdown';
import { addressMarkdown } from './addressInfo';
import type { ListingIndex } from './listingIndex';

export interface HoverResult {
  start: number;
  end: number;
  markdown: string;
}

/** As far as VS Code's own word finder looks either side of the cursor (its wordHelper's maxLen of 1000). */
const WORD_REACH = 500;

/** The 0x... word around `character`, looked for only within WORD_REACH of it: a 10 MB line costs no more than a short one. */
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

/** What is under the cursor: a register operand, already described, or an address to look up. */
export type HoverTarget = HoverResult | { start: number; end: number; address: number };

export function hoverTargetAt(line: string, character: number): HoverTarget | undefined {
  const operand = sysregOperandAt(line, character);
  if (operand) return { start: operand.start, end: operand.end, markdown: sysregMarkdown(operand.field, operand.direction, operand.text) };
  const word = addressWordAt(line, character);
  return word && { ...word, address: Number(line.slice(word.start, word.end)) };
}

/** The hover at `character` of `line`, with the listing's index at hand. */
export function hoverAt(line: string, character: number, index: ListingIndex): HoverResult | undefined {
  return describe(hoverTargetAt(line, character), index);
}

/** An address target described from the index (undefined when the index has nothing to say). */
export function describe(target: HoverTarget | undefined, index: ListingIndex): HoverResult | undefined {
  if (!target || 'markdown' in target) return target;
  const markdown = addressMarkdown(index, target.address);
  return markdown ? { start: target.start, end: target.end, markdown } : undefined;
}
