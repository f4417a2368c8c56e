// Helpers for tests that follow the round trip through the proxy's bluepill/state events.
import type { BluepillState } from '../../adapter/bluepill/state';
import type { RecordingClient } from './client';

/** The next state event that describes a stop (not "running"), after `after` events were seen. */
export async function nextStopState(dc: RecordingClient, after: number, timeoutMs = 15_000): Promise<BluepillState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = dc.events('bluepill/state').slice(after).map((e) => e.body as BluepillState);
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
