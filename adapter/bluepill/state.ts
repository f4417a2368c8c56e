// The body of the proxy's custom `bluepill/state` event: everything the Bluepill
// State view, the state pane and other DAP clients show. Plain JSON.
import type { Diagnosis } from './diagnoses';
import type { LandmarkRole, Phase, VariantId } from './model';
import type { Trip } from './tripLog';

export const STATE_EVENT = 'bluepill/state';
export const WARNING_EVENT = 'bluepill/warning';
/**
 * The guest of a sandbox the session is attached to, watched through the host's KVM trace
 * events while it runs (adapter/guest/): once a second `{ summary }`, or once `{ error }`
 * when it cannot be watched (not root, no tracefs...), in words that say what to do.
 */
export const GUEST_EVENT = 'bluepill/guest';
/** A custom request a client may send to get the latest state at once. */
export const GET_STATE_REQUEST = 'bluepill/getState';

export interface UcontextView {
  address: string;
  pc: string;
  pcSymbol?: string;
  sp: string;
  lr?: string;
  flags: string;
  /** EL0t / EL1t / EL1h, or the amd64 ring. */
  mode: string;
  /** A word summary of PSTATE/EFLAGS. */
  flagsSummary?: string;
  host: boolean;
  faultAddress: string;
  /** uc_sigmask, hex, and the signals it blocks in words. */
  sigmask?: string;
  sigmaskSummary?: string;
}

export interface StopView {
  index: number;
  time: number;
  threadId: number;
  pc: string;
  symbol: string;
  instruction?: string;
  phase: Phase;
  phaseTitle: string;
  /** "host (EL0)" or "guest (vCPU at EL1)". */
  mode: string;
  because: string;
  landmark?: { role: LandmarkRole; words: string; runsInGuest?: boolean };
  /** Where the PC came from: dlv's stack, or the kernel (a local debuggee stepped through host code it stepped before). */
  pcFrom?: 'dlv' | 'kernel';
}

export interface BluepillState {
  variant?: { id: VariantId; title: string; arch: 'arm64' | 'amd64' };
  running: boolean;
  ended: boolean;
  stop?: StopView;
  ucontext?: UcontextView;
  diagnoses: Diagnosis[];
  trips: readonly Trip[];
  tripCount: number;
  guestExits: number;
}

/**
 * The body of a `bluepill/state` event: the state, with `trips` only when the trip log
 * changed since the event before (up to 100 trips would otherwise be written at every
 * stop). `bluepill/getState` answers with the whole state.
 */
export type BluepillStateEvent = Omit<BluepillState, 'trips'> & { trips?: readonly Trip[] };

/** The state an event leaves a client with: its trips, or the ones it had. */
export function applyStateEvent(previous: BluepillState | undefined, body: BluepillStateEvent): BluepillState {
  return body.trips ? (body as BluepillState) : { ...body, trips: previous?.trips ?? [] };
}

export function emptyState(): BluepillState {
  return { running: false, ended: false, diagnoses: [], trips: [], tripCount: 0, guestExits: 0 };
}
