// Messages that pass the proxy unchanged leave as the bytes they came in, with only
// their numbers spliced in: the text must parse to the message, renumbered, always.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { numberedJson } from '../../adapter/dap/endpoints';

describe('numberedJson', () => {
  it('splices seq and request_seq into dlv\'s text, leaving the rest byte for byte', () => {
    const original = '{"seq":0,"type":"response","request_seq":17,"success":true,"command":"threads","body":{"threads":[{"id":1,"name":"main"}]}}';
    const message = { ...JSON.parse(original), seq: 42, request_seq: 3 };
    const out = numberedJson(message, original);
    assert.equal(out, '{"seq":42,"type":"response","request_seq":3,"success":true,"command":"threads","body":{"threads":[{"id":1,"name":"main"}]}}');
    const event = '{"seq":0,"type":"event","event":"stopped","body":{"reason":"step","threadId":1}}';
    assert.equal(numberedJson({ ...JSON.parse(event), seq: 9 }, event), event.replace('"seq":0', '"seq":9'));
  });

  it('writes the message anew when its text does not lead with the numbers, or repeats a key', () => {
    const reordered = '{"type":"event","seq":0,"event":"x"}';
    assert.deepEqual(JSON.parse(numberedJson({ seq: 5, type: 'event', event: 'x' } as never, reordered)), { seq: 5, type: 'event', event: 'x' });
    const repeated = '{"seq":0,"type":"response","request_seq":1,"success":true,"command":"c","request_seq":2}';
    assert.equal(JSON.parse(numberedJson({ ...JSON.parse(repeated), seq: 7, request_seq: 4 }, repeated)).request_seq, 4);
  });

  it('always parses back to the message with its new numbers (property, 5,000 cases)', () => {
    const body = fc.jsonValue();
    fc.assert(
      fc.property(fc.constantFrom('event', 'response', 'request'), fc.nat(), fc.nat(), fc.nat(), body, fc.boolean(), (type, oldSeq, newSeq, requestSeq, b, withSeqKeyInBody) => {
        const base: Record<string, unknown> = type === 'response' ? { seq: oldSeq, type, request_seq: oldSeq + 1, success: true, command: 'c' } : type === 'event' ? { seq: oldSeq, type, event: 'e' } : { seq: oldSeq, type, command: 'c' };
        base.body = withSeqKeyInBody ? { seq: b, request_seq: b } : b;
        const original = JSON.stringify(base);
        const message = { ...JSON.parse(original), seq: newSeq, ...(type === 'response' ? { request_seq: requestSeq } : {}) };
        assert.deepEqual(JSON.parse(numberedJson(message, original)), message);
      }),
      { numRuns: 5000, seed: 16 },
    );
  });
});
