// The hooks run in one ordered pipeline: answer, replace, annotate, observe. So a
// disassembly the fallback decodes from memory is annotated like dlv's own: an MRS
// decoded from raw bytes shows TPIDR_EL1. (The context stands in for dlv: a unit
// test of the pipeline's order, with dlv's evaluate answer as recorded on the board.)
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { HOOK_STAGES, pipelineOrder, type ProxyContext } from '../../adapter/session/hooks';
import { defaultHooks } from '../../adapter/hooks';

function contextAnswering(evaluate: (expression: string) => string | undefined): ProxyContext {
  return {
    sessionArgs: { mode: 'remote', host: '127.0.0.1', port: 1, bluepillVariant: 'arm64' },
    sendEvent: () => undefined,
    requestDlv: async (command, args) => {
      const base = { seq: 0, type: 'response', request_seq: 1, command } as const;
      const result = command === 'evaluate' ? evaluate((args as { expression: string }).expression) : undefined;
      return result === undefined ? { ...base, success: false, message: 'no' } : { ...base, success: true, body: { result, variablesReference: 0 } };
    },
  };
}

describe('hook pipeline', () => {
  it('orders hooks by stage, keeping the listed order within a stage', () => {
    const hooks = pipelineOrder(defaultHooks()(contextAnswering(() => undefined)));
    const stages = hooks.map((h) => HOOK_STAGES.indexOf(h.stage));
    assert.deepEqual(stages, [...stages].sort((a, b) => a - b));
    assert.ok(hooks.findIndex((h) => h.name === 'disassembleFallback') < hooks.findIndex((h) => h.name === 'sysregNames'));
  });

  it('names the system register of an MRS the fallback decoded from memory', async () => {
    // MRS TPIDR_EL1, R10 (0xd538d08a) then RET (0xd65f03c0): one 64-bit word, as dlv prints a [1]uint64.
    const ctx = contextAnswering((e) => (/\[1\]uint64\)\(uintptr\(0xffff0000\)\)/.test(e) ? `[${(0xd65f03c0n << 32n) | 0xd538d08an}]` : undefined));
    const hooks = pipelineOrder(defaultHooks()(ctx));
    // A frame with a symbol for the memory read, as the stack of a stop gives it.
    const stack: DebugProtocol.StackTraceResponse = { seq: 0, type: 'response', request_seq: 1, command: 'stackTrace', success: true, body: { stackFrames: [{ id: 7, name: 'main.main', line: 1, column: 0, instructionPointerReference: '0x401000' }] } };
    for (const h of hooks) await h.rewriteResponse?.(stack, { seq: 1, type: 'request', command: 'stackTrace', arguments: { threadId: 1 } });
    const request: DebugProtocol.Request = { seq: 2, type: 'request', command: 'disassemble', arguments: { memoryReference: '0xffff0000', instructionCount: 2 } };
    const response = { seq: 0, type: 'response', request_seq: 2, command: 'disassemble', success: false, message: 'Unable to disassemble', body: { error: { id: 2013, format: 'could not find memory reference' } } } as DebugProtocol.Response;
    for (const h of hooks) await h.rewriteResponse?.(response, request);
    const instructions = (response as DebugProtocol.DisassembleResponse).body!.instructions;
    assert.equal(response.success, true);
    assert.deepEqual(instructions.map((i) => i.instruction), ['MRS TPIDR_EL1, R10  // $18052 · EL1 only', 'RET']);
  });
});
