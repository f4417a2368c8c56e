// The DAP trace file: one JSON line per message, env values never written, owner-only.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { redact, TraceFile } from '../../adapter/dap/traceFile';

describe('DAP trace file', () => {
  it('replaces every env object by a count, wherever it is', () => {
    const launch = { seq: 1, type: 'request', command: 'launch', arguments: { program: '/bin/x', env: { TOKEN: 'abc', HOME: '/root' } } };
    const reverse = { seq: 2, type: 'request', command: 'runInTerminal', arguments: { args: ['x'], cwd: '/', env: { KEY: 'v' } } };
    assert.deepEqual(JSON.parse(redact(launch)).arguments, { program: '/bin/x', env: '[redacted: 2 variables]' });
    assert.equal(redact(reverse).includes('KEY'), false);
    // A string called env (not an object of variables) is no secret store: kept.
    assert.match(redact({ seq: 3, type: 'event', event: 'output', body: { output: 'env' } } as never), /"output":"env"/);
  });

  it('writes one line per message with time and direction, readable by its owner only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-'));
    const file = path.join(dir, 'sub', 't.jsonl');
    const trace = new TraceFile(file);
    trace.observe('client→proxy', { seq: 1, type: 'request', command: 'initialize' } as never);
    trace.observe('dlv→proxy', { seq: 1, type: 'event', event: 'initialized' } as never);
    trace.close();
    trace.observe('proxy→client', { seq: 2, type: 'event', event: 'late' } as never); // after close: ignored
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.direction), ['client→proxy', 'dlv→proxy']);
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.time))));
    assert.equal(fs.statSync(file).mode & 0o077, 0);
    fs.rmSync(dir, { recursive: true });
  });

  it('says what to do when the file cannot be created', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-'));
    const notAFolder = path.join(dir, 'file');
    fs.writeFileSync(notAFolder, '');
    assert.throws(() => new TraceFile(path.join(notAFolder, 't.jsonl')), /Cannot write the DAP trace to .*file\/t\.jsonl: .*Turn the setting bluepill\.trace off/);
    fs.rmSync(dir, { recursive: true });
  });
});
