// Hover on pathological lines: a go-objdump document with one line of 1 KB, 100 KB or 10 MB that
// is a long run of one thing (hex digits, decimal digits, $, spaces, parentheses, MRS/MSR moves,
// a symbol path, TEXT and spaces; see PATHOLOGICAL in test/support/hover.ts). Each sample is one
// hover, as extension/objdumpHover.ts does it without vscode (sysreg operand, else the 0x word
// looked up in the listing's index), at a cursor spread over the line. The index is built once
// per document version, outside the samples, as in the extension. Goal: under 10 ms at every size.
// No baseline: nothing else answers this hover.
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { stats } from './lib.mjs';

const require = createRequire(import.meta.url);

const SIZES = [
  ['1 KB', 1e3],
  ['100 KB', 1e5],
  ['10 MB', 1e7],
];
const CURSORS = 50;

export async function benchPathologicalHover(root) {
  const { pathologicalLine, PATHOLOGICAL } = require(path.join(root, 'out/test/support/hover.js'));
  const { hoverAt } = require(path.join(root, 'out/adapter/explain/objdumpHover.js'));
  const { ListingIndex } = require(path.join(root, 'out/adapter/explain/listingIndex.js'));
  const results = {};
  for (const [label, length] of SIZES) {
    const samples = [];
    let worst = { kind: '', ms: 0 };
    for (const kind of Object.keys(PATHOLOGICAL)) {
      const line = pathologicalLine(kind, length);
      const lines = ['TEXT minibluepill/kvm.bluepill(SB) /src/minibluepill/kvm/bluepill_arm64.s', '  bluepill_arm64.s:87\t0x95c6d8\t\td538d08a\t\tMRS $18052, R10\t\t', line];
      const index = await ListingIndex.build({ lineCount: lines.length, lineAt: (n) => lines[n] });
      // Cursors at both ends, in the prefix, and spread over the run.
      const cursors = [0, 30, 45, line.length - 1, line.length, ...Array.from({ length: CURSORS - 5 }, (_, i) => Math.floor(((i + 1) * line.length) / (CURSORS - 4)))];
      for (const c of cursors) hoverAt(line, c, index); // warm-up
      for (const c of cursors) {
        const t = process.hrtime.bigint();
        hoverAt(line, c, index);
        const ms = Number(process.hrtime.bigint() - t) / 1e6;
        samples.push(ms);
        if (ms > worst.ms) worst = { kind, ms };
      }
    }
    results[label] = { ...stats(samples), worstKind: worst.kind };
  }
  return results;
}
