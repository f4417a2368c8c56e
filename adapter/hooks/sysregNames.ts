// Names system registers in `disassemble` responses: MRS $18052, R18 becomes
// MRS TPIDR_EL1, R18  // $18052 · EL1 only. Only the instruction text changes.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { annotateInstruction } from '../arm64/goSyntax';
import type { ProxyHook } from '../session/hooks';

export const sysregNames: ProxyHook = {
  name: 'sysregNames',
  stage: 'annotate',
  rewriteResponse(response) {
    if (response.command !== 'disassemble' || !response.success) return;
    const instructions = (response as DebugProtocol.DisassembleResponse).body?.instructions;
    if (!instructions) return;
    let changed = false;
    for (const ins of instructions) {
      const text = ins.instruction;
      // Cheap test first: almost every instruction is not a system register move.
      if (text.charCodeAt(0) !== 77 /* M */ || !(text.startsWith('MRS ') || text.startsWith('MSR '))) continue;
      const annotated = annotateInstruction(text);
      if (annotated) [ins.instruction, changed] = [annotated, true];
    }
    return changed;
  },
};
