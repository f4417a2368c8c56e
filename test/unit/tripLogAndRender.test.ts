import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TripLog } from '../../adapter/bluepill/tripLog';
import { renderState } from '../../adapter/bluepill/render';
import { applyStateEvent, emptyState, type BluepillState } from '../../adapter/bluepill/state';
import type { Phase } from '../../adapter/bluepill/model';

/** Stops reached by steps unless marked 'continue' (a continue to a breakpoint). */
function replay(log: TripLog, phases: Array<[Phase, number, string?, 'continue'?]>): void {
  for (const [phase, time, ucontextPc, how] of phases) {
    log.record({ time, phase, pc: '0x1', symbol: 'f', ucontextPc }, { stepped: how !== 'continue' });
    log.resumed(time + 1);
  }
}

describe('TripLog', () => {
  it('groups stops into trips, one entry per phase, newest trip first', () => {
    const log = new TripLog();
    replay(log, [['host', 0], ['entering', 10], ['entering', 11], ['trapped', 20], ['in-guest', 30], ['guest-exit', 80, '0x95c6d8'], ['sigreturn', 90, '0x95c6d8'], ['resumed', 100], ['host', 110], ['entering', 120]]);
    const trips = log.list();
    assert.equal(trips.length, 2);
    assert.equal(trips[0].number, 2);
    assert.deepEqual(trips[1].stops.map((s) => s.phase), ['entering', 'trapped', 'in-guest', 'guest-exit', 'sigreturn', 'resumed']);
    assert.equal(trips[1].complete, true);
    assert.equal(trips[1].exitPc, '0x95c6d8');
    assert.equal(log.guestExitCount, 1);
  });

  it('a continue back to the same breakpoint, or to an earlier phase, is a new trip; steps within a phase, or KVM_RUN again, are not', () => {
    // A breakpoint at kvm.bluepill, then continue five times: five trips, each seen entering.
    const again = new TripLog();
    replay(again, [['entering', 0], ['entering', 10, undefined, 'continue'], ['entering', 20, undefined, 'continue'], ['entering', 30, undefined, 'continue'], ['entering', 40, undefined, 'continue']]);
    assert.equal(again.tripCount, 5);
    // Entering and trapped by steps, then a continue to kvm.bluepill again: two trips.
    const back = new TripLog();
    replay(back, [['entering', 0], ['entering', 1], ['trapped', 2], ['entering', 10, undefined, 'continue'], ['trapped', 11]]);
    assert.deepEqual(back.list().map((t) => t.stops.map((s) => s.phase)), [['entering', 'trapped'], ['entering', 'trapped']]);
    // A breakpoint in bluepillGuestExit, continued to it again: a trip joined midway each time.
    const exits = new TripLog();
    replay(exits, [['guest-exit', 0, '0x10'], ['guest-exit', 10, '0x20', 'continue']]);
    assert.equal(exits.tripCount, 2);
    // Two stops in KVM_RUN (bluepillHandler reruns it within one trip): one trip.
    const rerun = new TripLog();
    replay(rerun, [['entering', 0], ['trapped', 1], ['in-guest', 2], ['in-guest', 10, undefined, 'continue'], ['guest-exit', 11]]);
    assert.equal(rerun.tripCount, 1);
  });

  it('counts a change only when the trips change: host stops leave the version as it was', () => {
    const log = new TripLog();
    const versions: number[] = [];
    for (const phase of ['host', 'host', 'entering', 'trapped', 'resumed', 'host', 'host'] as Phase[]) {
      log.record({ time: 0, phase, pc: '0x1', symbol: 'f' });
      versions.push(log.version);
    }
    assert.deepEqual(versions, [0, 0, 2, 3, 4, 4, 4]);
  });

  it('an event without trips keeps the trips the client had; one with trips replaces them', () => {
    const log = new TripLog();
    replay(log, [['entering', 0], ['resumed', 10]]);
    const full: BluepillState = { ...emptyState(), trips: log.list(), tripCount: 1 };
    const { trips: _omitted, ...withoutTrips } = { ...full, running: true };
    const after = applyStateEvent(full, withoutTrips);
    assert.equal(after.running, true);
    assert.equal(after.trips, full.trips);
    assert.deepEqual(applyStateEvent(after, { ...emptyState(), trips: [] }).trips, []);
    assert.deepEqual(applyStateEvent(undefined, withoutTrips).trips, []);
  });

  it('adds the running time between handler phases to the trip\'s guest time', () => {
    const log = new TripLog();
    replay(log, [['trapped', 0], ['in-guest', 50], ['guest-exit', 250]]);
    // trapped -> in-guest ran 49 ms, in-guest -> guest-exit ran 199 ms (resumed 1 ms after each stop).
    assert.equal(log.list()[0].guestMs, 49 + 199);
  });

  it('keeps each thread\'s trip apart when vCPU threads interleave', () => {
    const log = new TripLog();
    const at = (threadId: number, phase: Phase, time: number) => log.record({ threadId, time, phase, pc: '0x1', symbol: 'f' });
    at(1, 'entering', 0);
    at(2, 'entering', 1);
    at(1, 'trapped', 2);
    at(2, 'trapped', 3);
    at(1, 'guest-exit', 4);
    at(1, 'sigreturn', 5);
    at(1, 'resumed', 6);
    const [second, first] = log.list();
    assert.deepEqual([first.threadId, first.stops.map((s) => s.phase), first.complete], [1, ['entering', 'trapped', 'guest-exit', 'sigreturn', 'resumed'], true]);
    assert.deepEqual([second.threadId, second.stops.map((s) => s.phase), second.complete], [2, ['entering', 'trapped'], false]);
  });

  it('keeps at most 100 trips', () => {
    const log = new TripLog();
    for (let i = 0; i < 130; i++) replay(log, [['entering', i * 10], ['resumed', i * 10 + 5]]);
    assert.equal(log.list().length, 100);
    assert.equal(log.tripCount, 130);
  });
});

describe('renderState', () => {
  it('marks the current phase and explains the context', () => {
    const state: BluepillState = {
      ...emptyState(),
      variant: { id: 'arm64', title: 'ARM64: MRS TPIDR_EL1 → SIGILL', arch: 'arm64' },
      stop: { index: 3, time: 0, threadId: 7, pc: '0x95c700', symbol: 'kvm.sighandler', phase: 'trapped', phaseTitle: 'trapped', mode: 'host (EL0 / ring 3)', because: 'the thread is in kvm.sighandler' },
      ucontext: { address: '0x4000460e20', pc: '0x95c6d8', pcSymbol: 'kvm.bluepill+0x18', sp: '0x4000460000', lr: '0x95a004', flags: '0x60000000', mode: 'EL0t', flagsSummary: 'EL0t · NZCV ZC', host: true, faultAddress: '0x0' },
    };
    const text = renderState(state, 0);
    assert.match(text, /▶ trapped\s+◀ you are here/);
    assert.match(text, /SIGNAL CONTEXT \(ucontext at 0x4000460e20\)/);
    assert.match(text, /PC {5}0x95c6d8  kvm\.bluepill\+0x18/);
    assert.match(text, /mode {3}EL0t  \(the interrupted code was the host, user mode\)/);
  });

  it('says what to do before the first stop', () => {
    assert.match(renderState(emptyState()), /No stop yet/);
  });
});
