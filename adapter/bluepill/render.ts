// Renders a bluepill state as readable text: the phase diagram with the current
// step marked, the signal context, and the trip log with a word for each step.
// Used by the extension's state pane; pure, so other front ends can reuse it.
import { phasesOfId } from './model';
import type { BluepillState } from './state';

export function renderState(state: BluepillState, now = Date.now()): string {
  const out: string[] = [];
  out.push('BLUEPILL ROUND TRIP', '');
  if (state.ended) out.push('The debug session has ended.', '');
  if (!state.stop) {
    out.push(state.running ? 'The debuggee is running: the state shows at the next stop.' : 'No stop yet: set a breakpoint or pause.');
    return out.join('\n') + '\n';
  }
  const s = state.stop;
  const PHASES = phasesOfId(state.variant?.id);
  out.push(`${state.variant?.title ?? 'variant unknown'}${state.running ? '   (running: this is the last stop)' : ''}`, '');
  for (const p of PHASES) {
    const here = p.phase === s.phase;
    out.push(`${here ? '  ▶' : '   '} ${p.title.padEnd(20)}${here ? ' ◀ you are here' : ''}`);
  }
  out.push('', `Now: ${PHASES.find((p) => p.phase === s.phase)!.words}`, `Mode: ${s.mode}`, `Why: ${s.because}.`);
  out.push('', `Stop #${s.index}  thread ${s.threadId}  ${s.pc}  ${s.symbol}${s.instruction ? `  ${s.instruction}` : ''}`);
  if (s.landmark) out.push(`Landmark: ${s.landmark.words}`);
  if (s.landmark?.runsInGuest) out.push('Careful: this code also runs inside the guest; avoid software breakpoints here.');

  if (state.ucontext) {
    const u = state.ucontext;
    out.push('', `SIGNAL CONTEXT (ucontext at ${u.address})`);
    out.push(`  PC     ${u.pc}${u.pcSymbol ? `  ${u.pcSymbol}` : ''}`);
    out.push(`  SP     ${u.sp}`);
    if (u.lr) out.push(`  LR     ${u.lr}`);
    out.push(`  mode   ${u.mode}  ${u.host ? '(the interrupted code was the host, user mode)' : '(the interrupted code ran privileged: guest)'}`);
    out.push(`  flags  ${u.flags}${u.flagsSummary ? `  ${u.flagsSummary}` : ''}`);
    out.push(`  fault  ${u.faultAddress}`);
    if (u.sigmask) out.push(`  mask   ${u.sigmask}  ${u.sigmaskSummary ?? ''}`.trimEnd());
  }

  if (state.diagnoses.length) {
    out.push('', 'DIAGNOSES');
    for (const d of state.diagnoses) out.push(`  [${d.severity}] ${d.message}`);
  }

  out.push('', `TRIPS (${state.tripCount} seen, ${state.guestExits} guest exits; newest first)`);
  for (const trip of state.trips.slice(0, 20)) {
    const age = Math.max(0, Math.round((now - trip.started) / 1000));
    out.push(`  #${trip.number}${trip.threadId !== undefined ? `  thread ${trip.threadId}` : ''}  ${age}s ago  ${trip.guestMs} ms running in the guest${trip.exitPc ? `  exit PC ${trip.exitPc}` : ''}${trip.complete ? '' : '  (in progress)'}`);
    for (const stop of trip.stops) {
      const words = PHASES.find((p) => p.phase === stop.phase)!.title;
      out.push(`      ${words.padEnd(20)} ${stop.pc.padEnd(16)} ${stop.symbol}${stop.ucontextPc ? `  ucontext PC ${stop.ucontextPc}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
