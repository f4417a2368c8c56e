// The checks that keep a request dlv would die of from reaching it: Go's decoding rules
// (whole numbers within 64 bits, keys without case, null for anything) and dlv's 4 MiB.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { requestProblem } from '../../adapter/dap/requestChecks';
import { REQUEST_ARGUMENTS } from '../../adapter/dap/argumentTypes.generated';
import { inClientTerms } from '../../adapter/session/clientWording';

const request = (command: string, args?: unknown): DebugProtocol.Request => ({ seq: 1, type: 'request', command, arguments: args });

describe('requestProblem', () => {
  it('passes well-typed requests, nulls and unknown fields, as Go does', () => {
    assert.equal(requestProblem(request('stackTrace', { threadId: 1, startFrame: 0, levels: 20, format: { hex: true } })), undefined);
    assert.equal(requestProblem(request('stackTrace', { threadId: null, extra: 'ignored' })), undefined);
    assert.equal(requestProblem(request('setBreakpoints', { source: { path: '/a.go' }, breakpoints: [{ line: 3, condition: 'x > 1' }] })), undefined);
    assert.equal(requestProblem(request('threads')), undefined);
    assert.equal(requestProblem(request('bluepill/explain', { address: 'zz' })), undefined, 'commands outside the protocol are not typed');
    assert.equal(requestProblem(request('launch', { program: 5 })), undefined, 'dlv decodes launch itself and answers a bad one');
  });

  it('names the field, the type wanted and the value for each Go decoding error', () => {
    const cases: [string, unknown, RegExp][] = [
      ['stackTrace', { threadId: '1' }, /"threadId" must be a whole number, but it is string "1"/],
      ['stackTrace', { threadId: 1, levels: 20.5 }, /"levels" must be a whole number, but it is number 20\.5/],
      ['stackTrace', { THREADID: 1, startFrame: 2 ** 63 }, /"startFrame" must be a whole number/],
      ['stackTrace', { threadid: true }, /"threadid" must be a whole number, but it is boolean true/],
      ['evaluate', { expression: ['x'] }, /"expression" must be a string, but it is array/],
      ['setBreakpoints', { source: { path: '/a.go' }, breakpoints: [{ line: 3 }, { line: 'x' }] }, /"breakpoints\[1\]\.line" must be a whole number/],
      ['setBreakpoints', { source: { path: '/a.go', sources: [{ sourceReference: 'r' }] } }, /"source\.sources\[0\]\.sourceReference"/],
      ['continue', 7, /"arguments" must be an object, but it is number 7/],
    ];
    for (const [command, args, expected] of cases) assert.match(requestProblem(request(command, args)) ?? '', expected, `${command} ${JSON.stringify(args)}`);
  });

  it("refuses a request over dlv's 4 MiB, measured in bytes (UTF-8), and only then", () => {
    assert.equal(requestProblem(request('evaluate', { expression: 'x'.repeat(4 * 1024 * 1024 - 100) })), undefined);
    assert.match(requestProblem(request('evaluate', { expression: 'é'.repeat(2 * 1024 * 1024 + 10) })) ?? '', /is 4\.2 MB; dlv accepts at most 4 MiB/);
  });

  it('knows every request of the protocol dlv decodes', () => {
    for (const command of ['initialize', 'stackTrace', 'scopes', 'variables', 'evaluate', 'setBreakpoints', 'disassemble', 'readMemory', 'continue', 'next', 'stepIn', 'disconnect']) {
      assert.ok(REQUEST_ARGUMENTS[command], command);
    }
  });
});

describe('inClientTerms', () => {
  it("puts the client's seq for the proxy's, and drops a spawned dlv's address", () => {
    assert.equal(inClientTerms("Request command 'x' is not supported (seq: 7)", 7, 12, undefined), "Request command 'x' is not supported (seq: 12)");
    assert.equal(inClientTerms('unknown reference 7', 7, 12, undefined), undefined, 'other numbers stay');
    const busy = 'Failed to launch: debug session already in progress at 127.0.0.1:4567 - use remote attach mode to connect to a server with an active debug session';
    assert.match(inClientTerms(busy, 1, 2, '127.0.0.1:4567') ?? '', /^Failed to launch: this debug session has launched or attached already/);
    assert.equal(inClientTerms(busy, 1, 2, undefined), undefined, "a remote dlv's own address is the user's to see");
  });
});
