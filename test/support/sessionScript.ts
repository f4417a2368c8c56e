// A scripted session touching most of what a user does, for tests that compare or
// record whole sessions (transparency, fuzzing from real transcripts).
import type { DebugProtocol } from '@vscode/debugprotocol';
import { fixtureSource, lineOf } from './fixtures';
import { openSession, type RecordingClient } from './client';

/** A session touching most of what a user does: breakpoints, stacks, variables, registers, disassembly, steps. */
export async function script(dc: RecordingClient, program: string): Promise<void> {
  await openSession(dc, 'launch', { mode: 'exec', program, showRegisters: true });
  await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main.compute' }] });
  await dc.request('setExceptionBreakpoints', { filters: [] });
  let stopped = dc.waitForEvent('stopped');
  await dc.configurationDoneRequest();
  let stop = (await stopped) as DebugProtocol.StoppedEvent;
  const threadId = stop.body.threadId!;
  await dc.threadsRequest();
  const stack = await dc.stackTraceRequest({ threadId, levels: 50 });
  const frameId = stack.body.stackFrames[0].id;
  const scopes = await dc.scopesRequest({ frameId });
  for (const scope of scopes.body.scopes) await dc.variablesRequest({ variablesReference: scope.variablesReference });
  await dc.evaluateRequest({ expression: 'n', frameId, context: 'hover' });
  await dc.request('evaluate', { expression: 'no_such_variable', frameId, context: 'watch' }); // an error response
  await dc.request('disassemble', { memoryReference: stack.body.stackFrames[0].instructionPointerReference, instructionOffset: -20, instructionCount: 40, resolveSymbols: true });
  stopped = dc.waitForEvent('stopped');
  await dc.continueRequest({ threadId });
  stop = (await stopped) as DebugProtocol.StoppedEvent;
  for (let i = 0; i < 5; i++) {
    stopped = dc.waitForEvent('stopped');
    await dc.stepInRequest({ threadId, granularity: 'instruction' });
    await stopped;
  }
  stopped = dc.waitForEvent('stopped');
  await dc.nextRequest({ threadId });
  await stopped;
  await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 20 });
  await dc.setBreakpointsRequest({ source: { path: fixtureSource('hello') }, breakpoints: [] });
  await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId });
  await terminated;
  await dc.disconnectRequest({});
}

