// Post-mortem: dlv's core mode through the proxy, on a core the test makes itself.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { makeCore } from '../support/cores';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';

describe('core mode through the proxy', () => {
  let dc: RecordingClient;
  let core: Awaited<ReturnType<typeof makeCore>>;
  let program: string;
  const before_ = dlvPids();

  before(async () => {
    program = buildFixture('hello');
    core = await makeCore(program, ['-forever'], /ready/);
    dc = await proxyClient();
  });
  after(async () => {
    await dc.stop();
    core.cleanup();
    await expectNoNewDlv(before_);
  });

  it('opens the core, lists goroutines, unwinds main and disassembles at a frame', async () => {
    assert.ok(fs.statSync(core.core).size > 0);
    await openSession(dc, 'launch', { mode: 'core', program, coreFilePath: core.core });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    // dlv stops at once, explaining that a core cannot run; the proxy passes that on.
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    assert.match(stop.body.text ?? '', /core/);

    const threads = await dc.threadsRequest();
    assert.ok(threads.body.threads.length >= 2);
    const stacks = await Promise.all(threads.body.threads.map((t) => dc.stackTraceRequest({ threadId: t.id, levels: 10 })));
    const mainStack = stacks.map((s) => s.body.stackFrames).find((frames) => frames.some((f) => f.name === 'main.main'));
    assert.ok(mainStack, 'one goroutine is in main.main');
    const top = mainStack[0];
    const dis = (await dc.customRequest('disassemble', { memoryReference: top.instructionPointerReference, instructionCount: 4 })) as DebugProtocol.DisassembleResponse;
    assert.equal(dis.body!.instructions[0].address, top.instructionPointerReference);
  });
});
