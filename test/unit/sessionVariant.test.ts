// The variant of a remote session (no local binary) is decided from dlv at the first
// stop that has a frame; asked before that, the answer is "not yet", never kept.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyContext } from '../../adapter/session/hooks';
import { BluepillSession } from '../../adapter/hooks/bluepill/session';

/** A remote attach whose dlv has X0 but no RIP (arm64), or (`answering` false) answers no read at all; records the evaluates sent to it. */
function remoteArm64(answering = { yes: true }): { ctx: ProxyContext; evaluates: unknown[] } {
  const evaluates: unknown[] = [];
  const ctx: ProxyContext = {
    sessionArgs: { request: 'attach', mode: 'remote', host: '127.0.0.1', port: 2345 },
    sendEvent: () => undefined,
    requestDlv: async (command, args) => {
      assert.equal(command, 'evaluate');
      evaluates.push(args);
      const expression = (args as DebugProtocol.EvaluateArguments).expression;
      if (answering.yes && expression === 'X0') return { seq: 0, type: 'response', request_seq: 0, command, success: true, body: { result: '0', variablesReference: 0 } } as DebugProtocol.Response;
      return { seq: 0, type: 'response', request_seq: 0, command, success: false, message: answering.yes ? `could not find symbol value for ${expression}` : 'Unable to evaluate expression: unknown goroutine 1' } as DebugProtocol.Response;
    },
  };
  return { ctx, evaluates };
}

describe('BluepillSession.variant on a remote board', () => {
  it('is undecided without a frame, then decided at the first frame, and kept', async () => {
    const { ctx, evaluates } = remoteArm64();
    const session = new BluepillSession(ctx);
    assert.equal(await session.variant(), undefined, 'nothing to evaluate in yet');
    assert.equal((await session.variant(7))?.id, 'arm64', 'the undecided answer was not kept');
    assert.deepEqual(evaluates.slice(0, 2), [
      { expression: 'RIP', frameId: 7, context: 'watch' },
      { expression: 'X0', frameId: 7, context: 'watch' },
    ]);
    const asked = evaluates.length;
    assert.equal((await session.variant())?.id, 'arm64');
    assert.equal(evaluates.length, asked, 'decided once');
  });

  it('a stop where no register can be read (the thread moved on): undecided, never "no RIP, so arm64"; decided at a later stop', async () => {
    const answering = { yes: false };
    const { ctx } = remoteArm64(answering);
    const session = new BluepillSession(ctx);
    assert.equal(await session.variant(7), undefined);
    answering.yes = true;
    assert.equal((await session.variant(8))?.id, 'arm64');
  });
});

describe('BluepillSession.variant on a remote amd64 target', () => {
  /** dlv's answers as a real dlv gave them on runsc of 2026 (amd64): RIP, and "pkg".Function evaluated when it exists. */
  function remoteAmd64(present: string[]): { ctx: ProxyContext; asked: string[] } {
    const asked: string[] = [];
    const ctx: ProxyContext = {
      sessionArgs: { request: 'attach', mode: 'remote', host: '127.0.0.1', port: 2345 },
      sendEvent: () => undefined,
      requestDlv: async (command, args) => {
        const expression = (args as DebugProtocol.EvaluateArguments).expression;
        asked.push(expression);
        const found = expression === 'RIP' || present.includes(expression);
        return (found
          ? { seq: 0, type: 'response', request_seq: 0, command, success: true, body: { result: expression === 'RIP' ? '4213632' : expression.replace(/"/g, ''), variablesReference: 0 } }
          : { seq: 0, type: 'response', request_seq: 0, command, success: false, message: `could not find symbol ${expression}` }) as DebugProtocol.Response;
      },
    };
    return { ctx, asked };
  }

  it('is the 2024+ variant when dlv finds sigframe.CallWithSignalFrame, the CLI one when it finds kvm.sighandler alone', async () => {
    const sigframe = remoteAmd64(['"gvisor.dev/gvisor/pkg/sigframe".CallWithSignalFrame']);
    assert.equal((await new BluepillSession(sigframe.ctx).variant(3))?.id, 'amd64-sigframe');
    assert.ok(sigframe.asked.includes('"gvisor.dev/gvisor/pkg/sigframe".CallWithSignalFrame'));
    const cli = remoteAmd64(['"gvisor.dev/gvisor/pkg/sentry/platform/kvm".sighandler']);
    assert.equal((await new BluepillSession(cli.ctx).variant(3))?.id, 'amd64-cli');
  });
});
