// The history of round trips: every classified stop, grouped into trips (a trip
// starts when a thread enters or traps), newest first, at most 100 trips. It also
// adds up how long each trip ran in the guest: the time the debuggee ran between a
// resume from a handler phase and the next stop in a handler phase.
import type { Phase } from './model';

export interface TripStop {
  time: number;
  phase: Phase;
  pc: string;
  symbol: string;
  ucontextPc?: string;
}

export interface Trip {
  number: number;
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

export class TripLog {
  private trips: Trip[] = [];
  private count = 0;
  private guestExits = 0;
  private lastPhase: Phase | undefined;
  private runningSince: number | undefined;
  private runningFrom: Phase | undefined;

  /** The debuggee was resumed (continue, step) at `time`. */
  resumed(time: number): void {
    this.runningSince = time;
    this.runningFrom = this.lastPhase;
  }

  record(stop: TripStop): Trip | undefined {
    const current = this.trips[0];
    const pastEntry = current?.stops.some((s) => !STARTS.includes(s.phase)) ?? false;
    const opensTrip = STARTS.includes(stop.phase) && (!current || current.complete || pastEntry);
    const joinsMidway = (!current || current.complete) && stop.phase !== 'host' && stop.phase !== 'resumed';
    if (opensTrip || joinsMidway) {
      this.trips.unshift({ number: ++this.count, started: stop.time, stops: [], guestMs: 0, complete: false });
      if (this.trips.length > MAX_TRIPS) this.trips.pop();
    }
    const trip = this.trips[0];
    if (trip && !trip.complete && stop.phase !== 'host') {
      if (this.runningSince !== undefined && GUEST.includes(this.runningFrom!) && GUEST.includes(stop.phase)) {
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
    this.lastPhase = stop.phase;
    this.runningSince = undefined;
    return trip;
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
