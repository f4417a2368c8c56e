// Helpers for tests that follow the round trip through the proxy's bluepill/state events.
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as assert from 'node:assert/strict';
import { applyStateEvent, type BluepillState, type BluepillStateEvent } from '../../adapter/bluepill/state';
import type { RecordingClient } from './client';

/**
 * The state after each `bluepill/state` event so far, as a client keeps it: an event
 * carries the trips only when they changed, so each takes the trips of the one before.
 */
export function stateEvents(dc: RecordingClient): BluepillState[] {
  const states: BluepillState[] = [];
  for (const e of dc.events('bluepill/state')) states.push(applyStateEvent(states.at(-1), e.body as BluepillStateEvent));
  return states;
}

/** The next state event that describes a stop (not "running"), after `after` events were seen. */
export async function nextStopState(dc: RecordingClient, after: number, timeoutMs = 15_000): Promise<BluepillState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = stateEvents(dc).slice(after);
    const found = states.find((s) => !s.running && s.stop);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no bluepill/state for a stop within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Steps one instruction and returns the state the proxy reports for the new stop. */
export async function stepInstruction(dc: RecordingClient, threadId: number): Promise<BluepillState> {
  const before = dc.events('bluepill/state').length;
  const stopped = dc.waitForEvent('stopped');
  await dc.stepInRequest({ threadId, granularity: 'instruction' });
  await stopped;
  return nextStopState(dc, before);
}

export async function continueTo(dc: RecordingClient, threadId: number): Promise<BluepillState> {
  const before = dc.events('bluepill/state').length;
  const stopped = dc.waitForEvent('stopped');
  await dc.continueRequest({ threadId });
  await stopped;
  return nextStopState(dc, before);
}

/** Collapses repeats: the phases in the order they were first entered. */
export function phaseSequence(states: BluepillState[]): string[] {
  const out: string[] = [];
  for (const s of states) if (s.stop && out[out.length - 1] !== s.stop.phase) out.push(s.stop.phase);
  return out;
}

export interface BackToBackRun {
  /** Stopped events seen while stepping (the first stop excluded). */
  stops: number;
  /** The bluepill/state that describes each stop, in order. */
  states: BluepillState[];
  /** The state the proxy holds at the end (bluepill/getState). */
  final: BluepillState;
  /** What a lost state would be traced to: stopped events not of a plain step, and the proxy's "not analysed" lines. */
  unusual: string[];
}

async function stepOnce(dc: RecordingClient, threadId: number): Promise<DebugProtocol.StoppedEvent['body']> {
  const stopped = dc.waitForEvent('stopped');
  await dc.stepInRequest({ threadId, granularity: 'instruction' });
  return ((await stopped) as DebugProtocol.StoppedEvent).body;
}

/** Two steps, the second sent before the first has stopped (a client that queues its steps); their two stops. */
async function stepPair(dc: RecordingClient, threadId: number, unusual: string[]): Promise<Array<DebugProtocol.StoppedEvent['body']>> {
  const seen = dc.events('stopped').length;
  const answers = await Promise.all([0, 1].map(() => dc.request('stepIn', { threadId, granularity: 'instruction' })));
  for (const a of answers) if (!a.success) unusual.push(`a stepIn of a pair failed (${a.message})`);
  for (const until = Date.now() + 20_000; dc.events('stopped').length < seen + 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 2));
  return dc.events('stopped').slice(seen, seen + 2).map((e) => (e as DebugProtocol.StoppedEvent).body);
}

/**
 * Steps one thread by instruction as fast as the adapter answers: the next step goes
 * out as soon as the previous one's `stopped` arrives, never waiting for a state
 * event. Stops once `done(final state)` holds after a step (checked through
 * bluepill/getState every `checkEvery` steps), after `maxSteps`, or once `maxMs` have
 * passed (a slow board must not outlast the test runner's limit). Works the same on
 * a local and a remote (board) target. `inPairs`: each step's successor is sent before it stops.
 */
export async function stepBackToBack(dc: RecordingClient, threadId: number, done: (s: BluepillState) => boolean, o: { maxSteps?: number; maxMs?: number; checkEvery?: number; statesFrom?: number; inPairs?: boolean } = {}): Promise<BackToBackRun> {
  const from = o.statesFrom ?? 0;
  const before = ((await dc.customRequest('bluepill/getState')).body as BluepillState).stop?.index ?? 0;
  let stops = 0;
  let final: BluepillState | undefined;
  const unusual: string[] = [];
  const outputBefore = dc.outputText().length;
  const deadline = Date.now() + (o.maxMs ?? Infinity);
  for (let i = 0; i < (o.maxSteps ?? 2000); i++) {
    for (const body of o.inPairs ? await stepPair(dc, threadId, unusual) : [await stepOnce(dc, threadId)]) {
      stops++;
      if (body.reason !== 'step' || body.threadId !== threadId) unusual.push(`step ${stops}: stopped ${JSON.stringify(body)}`);
    }
    if (Date.now() > deadline) break;
    if (i % (o.checkEvery ?? 25) === 0 || i === (o.maxSteps ?? 2000) - 1) {
      final = (await dc.customRequest('bluepill/getState')).body as BluepillState;
      if (done(final)) break;
    }
  }
  // The last stops may still be under analysis when the steps end (a slow board): getState answers
  // with the latest analysed stop. Wait, bounded, for the state of the last stop this loop made
  // (the stop before it plus one per step); a stop the proxy lost never comes, and the count fails.
  // Generous: one slow read of dlv's on a loaded board delays every analysis queued behind it
  // (each of the proxy's own reads may take up to 15 s before it gives up on it).
  const lastIndex = before + stops;
  const waitStarted = Date.now();
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    if (dc.events('bluepill/state').slice(from).some((e) => ((e.body as BluepillState).stop?.index ?? -1) >= lastIndex)) break;
  }
  const waited = Date.now() - waitStarted;
  if (waited > 1000) unusual.push(`the state of the last stop came ${waited} ms after it`);
  final = (await dc.customRequest('bluepill/getState')).body as BluepillState;
  // One state per stop: the first that describes it (a stop analysed after the thread moved on is
  // already marked running; the running state a resume sends repeats the stop before it).
  const states: BluepillState[] = [];
  for (const s of stateEvents(dc).slice(from)) {
    if (s.stop && s.stop.index > (states.at(-1)?.stop!.index ?? before)) states.push(s);
  }
  unusual.push(...dc.outputText().slice(outputBefore).split('\n').filter((l) => l.includes('was not analysed')));
  if (unusual.length) console.log(`stepping back to back: ${unusual.join('; ')}`);
  return { stops, states, final, unusual };
}

/** One state per stop, in the order of the stops; on failure, says what the lost stops were. */
export function expectEveryStopAnalysed(run: BackToBackRun, minStops: number): void {
  assert.ok(run.stops > minStops, `stepped ${run.stops} times`);
  const phases = run.states.map((s) => `${s.stop!.index}:${s.stop!.phase}`);
  const context = `states ${phases.slice(0, 3).join(' ')} … ${phases.slice(-3).join(' ')}; the proxy's last stop ${run.final.stop?.index}; ${run.unusual.length ? run.unusual.join('; ') : 'every stop was a plain step of the thread'}`;
  assert.equal(run.states.length, run.stops, `one state per stop (${context})`);
  assert.deepEqual(run.states.map((s) => s.stop!.index), run.states.map((_, i) => run.states[0].stop!.index + i), `in the order of the stops (${context})`);
}

const ROUND_TRIP = ['entering', 'trapped', 'in-guest', 'guest-exit', 'sigreturn', 'resumed'];

/** Two whole round trips stepped through: every phase of each in order, and two trips counted, no more. */
export function expectTwoWholeTrips(run: BackToBackRun): void {
  const phases = phaseSequence(run.states);
  assert.deepEqual(phases, ['host', ...ROUND_TRIP, 'host', ...ROUND_TRIP, 'host'], phases.join(' → '));
  assert.equal(run.final.tripCount, 2);
  assert.equal(run.final.guestExits, 2);
  for (const t of run.final.trips) {
    assert.equal(t.complete, true);
    assert.deepEqual(t.stops.map((s) => s.phase), ROUND_TRIP);
  }
}

/** The first trip trapped at `trapPc`; each trip's sigreturn carried the exit PC, and the host resumed there. */
export function expectResumedAt(run: BackToBackRun, trapPc: bigint, resumedAt: [first: bigint, second: bigint]): void {
  const [second, first] = run.final.trips;
  const trapped = first.stops.find((s) => s.phase === 'trapped')!;
  assert.equal(BigInt(trapped.ucontextPc!), trapPc, 'the kernel saved the PC of the trapping instruction');
  for (const [t, at] of [[first, resumedAt[0]], [second, resumedAt[1]]] as const) {
    const sigreturn = t.stops.find((s) => s.phase === 'sigreturn')!;
    const resumed = t.stops.find((s) => s.phase === 'resumed')!;
    assert.equal(sigreturn.ucontextPc, t.exitPc);
    assert.equal(BigInt(t.exitPc!), at);
    assert.equal(BigInt(resumed.pc), at);
  }
}
