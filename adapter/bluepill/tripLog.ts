// The history of round trips: every classified stop, grouped into trips per thread
// (a trip starts when a thread enters or traps; vCPU threads make theirs side by
// side), newest first, at most 100 trips. It also
// adds up how long each trip ran in the guest: the time the debuggee ran between a
// resume from a handler phase and the next stop in a handler phase.
import { PHASES, type Phase } from './model';

export interface TripStop {
  threadId?: number;
  time: number;
  phase: Phase;
  pc: string;
  symbol: string;
  ucontextPc?: string;
}

export interface Trip {
  number: number;
  threadId?: number;
  started: number;
  stops: TripStop[];
  /** Milliseconds the debuggee ran while in the guest during this trip. */
  guestMs: number;
  /** Where the host resumed (the ucontext PC written at guest exit), once known. */
  exitPc?: string;
  complete: boolean;
}

const MAX_TRIPS = 100;
const STARTS: Phase[] = ['entering', 'trapped'];
const GUEST: Phase[] = ['trapped', 'in-guest', 'guest-exit'];
const order = (phase: Phase) => PHASES.findIndex((p) => p.phase === phase);
/** bluepillHandler runs KVM_RUN again within one trip (after EINTR, some exits): a thread may stop in it twice. */
const REPEATS_IN_A_TRIP: Phase[] = ['in-guest'];

export class TripLog {
  private trips: Trip[] = [];
  private count = 0;
  private guestExits = 0;
  /** Per thread: its current trip and the phase of its last stop. */
  private threads = new Map<number | undefined, { trip?: Trip; lastPhase?: Phase; runningFrom?: Phase }>();
  private runningSince: number | undefined;
  /** Counts the changes to the trips: a client is sent them again only after one. */
  private changes = 0;

  /** The debuggee was resumed (continue, step) at `time`: every thread runs again. */
  resumed(time: number): void {
    this.runningSince = time;
    for (const t of this.threads.values()) t.runningFrom = t.lastPhase;
  }

  /** `how.stepped`: the thread came here by a step (not a continue to a breakpoint, or a pause). */
  record(stop: TripStop, how: { stepped?: boolean } = {}): Trip | undefined {
    let thread = this.threads.get(stop.threadId);
    if (!thread) this.threads.set(stop.threadId, (thread = {}));
    const current = thread.trip;
    const pastEntry = current?.stops.some((s) => !STARTS.includes(s.phase)) ?? false;
    // Back to an earlier phase of the trip (a trip never goes back: bluepillGuestExit returns from the
    // handler), or to the same phase other than by a step (a continue from a breakpoint to the same
    // breakpoint): a new round trip, whatever ran unseen between. Only KVM_RUN repeats within a trip.
    const last = current?.stops[current.stops.length - 1];
    const anew = last !== undefined && stop.phase !== 'host' && (order(stop.phase) < order(last.phase) || (!how.stepped && stop.phase === last.phase && !REPEATS_IN_A_TRIP.includes(stop.phase)));
    const opensTrip = STARTS.includes(stop.phase) && (!current || current.complete || pastEntry || anew);
    const joinsMidway = (!current || current.complete || anew) && stop.phase !== 'host' && stop.phase !== 'resumed';
    if (opensTrip || joinsMidway) {
      thread.trip = { number: ++this.count, threadId: stop.threadId, started: stop.time, stops: [], guestMs: 0, complete: false };
      this.changes++;
      this.trips.unshift(thread.trip);
      if (this.trips.length > MAX_TRIPS) this.trips.pop();
    }
    const trip = thread.trip;
    if (trip && !trip.complete && stop.phase !== 'host') {
      this.changes++;
      if (this.runningSince !== undefined && GUEST.includes(thread.runningFrom!) && GUEST.includes(stop.phase)) {
        trip.guestMs += stop.time - this.runningSince;
      }
      const last = trip.stops[trip.stops.length - 1];
      // One entry per phase: further stops in the same phase (instruction steps) only move its PC.
      if (last && last.phase === stop.phase) trip.stops[trip.stops.length - 1] = { ...stop, time: last.time, ucontextPc: stop.ucontextPc ?? last.ucontextPc };
      else {
        trip.stops.push(stop);
        if (stop.phase === 'guest-exit') this.guestExits++;
      }
      if (stop.ucontextPc && (stop.phase === 'guest-exit' || stop.phase === 'sigreturn')) trip.exitPc = stop.ucontextPc;
      if (stop.phase === 'resumed') trip.complete = true;
    }
    thread.lastPhase = stop.phase;
    thread.runningFrom = undefined;
    return trip;
  }

  /** Changes so far to what list() returns (a new trip, a stop recorded in one). */
  get version(): number {
    return this.changes;
  }

  /** Newest first. */
  list(): readonly Trip[] {
    return this.trips;
  }

  get guestExitCount(): number {
    return this.guestExits;
  }

  get tripCount(): number {
    return this.count;
  }
}
