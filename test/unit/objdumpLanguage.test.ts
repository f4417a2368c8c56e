// The go-objdump grammar, run by the same TextMate engine VS Code uses
// (vscode-textmate + vscode-oniguruma), and the hover text for raw operands.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as vsctm from 'vscode-textmate';
import { loadObjdumpGrammar } from '../support/grammar';
import { sysregOperandAt } from '../../adapter/arm64/operandAt';
import { sysregMarkdown } from '../../adapter/arm64/sysregMarkdown';

let grammar: vsctm.IGrammar;

/** Scopes of the token covering `text` in `line` (the first occurrence). */
function scopesOf(line: string, text: string): string[] {
  const { tokens } = grammar.tokenizeLine(line, vsctm.INITIAL);
  const at = line.indexOf(text);
  const token = tokens.find((t) => t.startIndex <= at && at < t.endIndex)!;
  return token.scopes;
}

describe('go-objdump grammar', () => {
  before(async () => {
    grammar = await loadObjdumpGrammar();
  });

  it('go tool objdump without -S: location, address, bytes, instruction, sysreg', () => {
    const line = '  bluepill_arm64.s:87\t0x95c6d8\t\td538d08a\t\tMRS $18052, R10\t\t';
    assert.ok(scopesOf(line, 'bluepill_arm64.s:87').includes('comment.line.location.go-objdump'));
    assert.ok(scopesOf(line, '0x95c6d8').includes('constant.numeric.address.go-objdump'));
    assert.ok(scopesOf(line, 'd538d08a').includes('constant.numeric.bytes.go-objdump'));
    assert.ok(scopesOf(line, 'MRS').includes('keyword.other.instruction.sysreg.go-objdump'));
    assert.ok(scopesOf(line, '$18052').includes('variable.language.sysreg.go-objdump'));
    assert.ok(scopesOf(line, 'R10').includes('variable.other.register.go-objdump'));
  });

  it('go tool objdump -S: instruction lines without location, Go source lines, TEXT headers', () => {
    assert.ok(scopesOf('  0xbc9b4\t\t97ff2753\t\tCALL runtime.convT64(SB)\t\t', 'CALL').includes('keyword.other.instruction.go-objdump'));
    assert.ok(scopesOf('  0xbc9b4\t\t97ff2753\t\tCALL runtime.convT64(SB)\t\t', 'runtime.convT64').includes('entity.name.function.call.go-objdump'));
    assert.ok(scopesOf('\tpanic(fmt.Sprintf("x"))', 'panic').includes('string.unquoted.source.go-objdump'));
    const header = 'TEXT gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepill(SB) /gvisor/pkg/sentry/platform/kvm/bluepill_arm64.s';
    assert.ok(scopesOf(header, 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepill').includes('entity.name.function.go-objdump'));
  });

  it('dlv disassembly text, with its current-instruction marker', () => {
    const line = '=>\tbluepill_arm64.s:87\t0x95c6d8\td538d08a\tMRS $18052, R10';
    assert.ok(scopesOf(line, '=>').includes('keyword.operator.current.go-objdump'));
    assert.ok(scopesOf(line, '$18052').includes('variable.language.sysreg.go-objdump'));
    assert.ok(scopesOf('\tentry.s:12\t0x951fa4\ta90e0640\tMSR R10, S3_0_C13_C0_4', 'S3_0_C13_C0_4').includes('variable.language.sysreg.go-objdump'));
  });
});

describe('hover on a raw operand', () => {
  it('finds $18052 under the cursor and explains it', () => {
    const line = '  bluepill_arm64.s:87\t0x95c6d8\t\td538d08a\t\tMRS $18052, R10\t\t';
    const at = sysregOperandAt(line, line.indexOf('$18052') + 2)!;
    assert.deepEqual({ text: at.text, field: at.field, direction: at.direction }, { text: '$18052', field: 18052, direction: 'mrs' });
    assert.equal(sysregOperandAt(line, line.indexOf('R10') + 1), undefined, 'the GPR is not a system register');
    const md = sysregMarkdown(at.field, at.direction, at.text);
    assert.match(md, /\*\*TPIDR_EL1\*\* \(read with MRS\)/);
    assert.match(md, /`S3_0_C13_C0_4` · op0 3 · op1 0 · CRn 13 · CRm 0 · op2 4/);
    assert.match(md, /EL1 only: traps at EL0 \(SIGILL\)/);
  });

  it('finds the MSR generic name', () => {
    const line = '\t0x951fa4\ta90e0640\tMSR R10, S3_0_C13_C0_4';
    const at = sysregOperandAt(line, line.indexOf('S3_0') + 4)!;
    assert.equal(at.direction, 'msr');
    assert.equal(at.field, 18052);
  });
});
