// The interrupted stack on ARM64, post-mortem: minibluepill built for arm64 dies inside
// its handler under qemu-user; in the core, the proxy unwinds the ucontext's PC, LR and
// FP (X29) below dlv's frames, from the MRS that trapped to main.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { makeQemuCore } from '../support/arm64';
import { openSession, proxyClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { nextStopState } from '../support/bluepill';
import { readElfFunctions } from '../../adapter/elf/symbols';

const SIGNAL_FRAME = /^\(ucontext\) /;

describe('the interrupted stack on ARM64 cores made under qemu-user', () => {
  let program: string;
  let bluepillAddress: bigint;
  const before_ = dlvPids();

  before(() => {
    program = buildFixture('minibluepill', { goarch: 'arm64' });
    bluepillAddress = readElfFunctions(program).functions.find((f) => f.name === 'minibluepill/kvm.bluepill.abi0')!.address;
  });
  after(() => expectNoNewDlv(before_));

  it('inside the handler: below dlv\'s frames, the host stack the MRS interrupted, through LR, to main', async () => {
    const core = makeQemuCore(program, ['-core-at', 'guest']);
    const dc = await proxyClient();
    try {
      await openSession(dc, 'launch', { mode: 'core', program, coreFilePath: core.core });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
      assert.equal((await nextStopState(dc, 0)).stop!.phase, 'in-guest');

      const stack = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 100 });
      const frames = stack.body.stackFrames;
      const names = frames.map((f) => f.name);
      const sep = names.indexOf('── interrupted (host, EL0) ──');
      assert.ok(sep > 0, names.join(' | '));
      assert.ok(names.slice(0, sep).every((n) => !SIGNAL_FRAME.test(n)), 'the handler\'s frames first');
      assert.match(names[sep - 1], /rt_sigreturn trampoline/, 'right after the trampoline the handler returns to');
      assert.equal(stack.body.totalFrames, frames.length);
      const spliced = frames.slice(sep + 1).filter((f) => SIGNAL_FRAME.test(f.name));
      assert.ok(frames.slice(sep + 1, sep + 1 + spliced.length).every((f) => SIGNAL_FRAME.test(f.name) && f.presentationHint === 'normal'), names.join(' | '));
      // kvm.bluepill has no frame record (NOFRAME): its caller comes from LR; the rest from X29's records.
      assert.deepEqual(spliced.slice(0, 3).map((f) => f.name.replace(SIGNAL_FRAME, '')), ['kvm.bluepill', 'kvm.Bluepill', 'main.main'], names.join(' | '));
      assert.equal(BigInt(spliced[0].instructionPointerReference!), bluepillAddress);
      const mainGo = path.join(path.dirname(program), '..', 'main.go');
      const callLine = fs.readFileSync(mainGo, 'utf8').split('\n').findIndex((l) => l.trim() === 'kvm.Bluepill()') + 1;
      assert.equal(path.resolve(spliced[2].source!.path!), path.resolve(mainGo));
      assert.equal(spliced[2].line, callLine, 'main.main at its call of kvm.Bluepill (-core-at guest)');
    } finally {
      await dc.stop();
      core.cleanup();
    }
  });
});
