// `cancel` names a request by the client's seq, and dlv knows it by the proxy's: the
// proxy translates it, and answers a cancel of a request that no longer waits itself
// (passed on unchanged, it would name whichever request of the proxy's has that number).
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { defaultHooks } from '../../adapter/hooks';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { ensureDlv } from '../support/paths';
import { InProcessSession } from '../support/inProcess';
import { dlvPids, expectNoNewDlv } from '../support/processes';

describe('cancel through the proxy', () => {
  const before_ = dlvPids();
  let s: InProcessSession | undefined;
  after(async () => {
    await s?.close();
    await expectNoNewDlv(before_);
  });

  it('names the request dlv knows (its seq, not the client\'s); a request already answered is not cancelled at dlv', async () => {
    const toDlv: DebugProtocol.Request[] = [];
    s = new InProcessSession({ defaults: { dlvPath: ensureDlv() }, hooks: defaultHooks(), observe: (direction, m) => direction === 'proxy→dlv' && m.type === 'request' && toDlv.push(m as DebugProtocol.Request) });
    await s.request('initialize', { adapterID: 'bluepill' });
    await s.request('launch', { mode: 'exec', program: buildFixture('hello'), args: ['-forever'] });
    // Requests the proxy answers itself put the client's numbering ahead of the proxy's.
    for (let i = 0; i < 3; i++) await s.request('bluepill/getState');
    await s.request('setBreakpoints', { source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    const stopped = s.next((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'stopped');
    await s.request('configurationDone');
    const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;

    // A stackTrace and, in the same write, a cancel of it: the stackTrace still waits for dlv.
    const stackSeq = 100;
    s.send({ seq: stackSeq, type: 'request', command: 'stackTrace', arguments: { threadId, levels: 20 } });
    s.send({ seq: stackSeq + 1, type: 'request', command: 'cancel', arguments: { requestId: stackSeq } });
    await s.until(() => s!.responsesTo(stackSeq).length > 0 && s!.responsesTo(stackSeq + 1).length > 0, 20_000);
    const at = toDlv.findIndex((r) => r.command === 'cancel');
    assert.ok(at > 0, 'the cancel went to dlv');
    const cancel = toDlv[at];
    // The client's stackTrace: the last one before the cancel (the proxy's own reads have theirs too).
    const stack = toDlv.slice(0, at).reverse().find((r) => r.command === 'stackTrace')!;
    assert.equal((stack.arguments as DebugProtocol.StackTraceArguments).levels, 20);
    assert.notEqual(stack.seq, stackSeq, 'the numberings differ, so the translation matters');
    assert.equal((cancel.arguments as DebugProtocol.CancelArguments).requestId, stack.seq);

    // A cancel of a request answered long ago: answered by the proxy, nothing sent to dlv.
    const sentBefore = toDlv.length;
    const late = await s.request('cancel', { requestId: stackSeq });
    assert.equal(late?.success, true);
    // (The stop's analysis may still send reads of its own: only a cancel would be wrong.)
    assert.deepEqual(toDlv.slice(sentBefore).filter((r) => r.command === 'cancel'), []);
  });
});
