// adapter/cli/terminalText.ts: what the CLI prints of outside text cannot drive the terminal.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { jsonText, printable, printableStrings } from '../../adapter/cli/terminalText';

describe('text from outside, for the terminal', () => {
  it('escapes C0 and C1 controls, DEL and bidirectional overrides; leaves other text alone', () => {
    assert.equal(printable('a\nb\tc\r\x1b[31md\x7f\u009b2J\u202eevil'), 'a\\nb\\tc\\r\\x1b[31md\\x7f\\x9b2J\\u202eevil');
    assert.equal(printable('kvm.(*vCPU).bluepill · π'), 'kvm.(*vCPU).bluepill · π');
  });

  it('JSON keeps the values exact once parsed, with no raw control character in the text', () => {
    const value = { argv: ['x\n* forged', '\x1b[31m', '\u009b2J', '\u202e'] };
    const text = jsonText(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'only the newlines of the layout');
  });

  it('makes every string of an object printable, deeply', () => {
    assert.deepEqual(printableStrings({ a: 'x\ny', b: ['\x1b'], c: 1, d: undefined }), { a: 'x\\ny', b: ['\\x1b'], c: 1, d: undefined });
  });
});
