// When a resume (continue, step) may go to dlv. Frame ids and registers are valid only until
// the thread moves, and dlv answers requests in the order they came, so a resume waits:
//   - for the stop of a step still in flight (a client may send the next step before that
//     stop: dlv runs both, and the first stop would never be read);
//   - then until the analysis of the latest stop has sent its last read to dlv.
// Every wait is bounded (a slow board, a step that never stops): the resume then goes anyway.
// Nothing to wait for: the resume goes in the turn it arrives (no promise, no timer).
import type { DebugProtocol } from '@vscode/debugprotocol';

/** A resume waits at most this long for each of the above (an emulated board answers in seconds). */
export const RESUME_WAIT_MS = 5000;

/** Resolves when `work` is done, or after `ms`. */
export function bounded(work: Promise<void>, ms = RESUME_WAIT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}

interface StepInFlight {
  request: DebugProtocol.Request;
  stopped: Promise<void>;
  arrived: () => void;
}

export class ResumeGate {
  /** Resolves once the analysis of the latest stop has sent every read it will send. */
  private readsSent: Promise<void> = Promise.resolve();
  /** Whether readsSent has resolved. */
  private readsDone = true;
  private step: StepInFlight | undefined;

  /** A stop arrived; returns what its analysis calls once its last read is sent (again later: harmless). */
  stopped(): () => void {
    let resolve!: () => void;
    const allSent = new Promise<void>((r) => (resolve = r));
    this.readsSent = allSent;
    this.readsDone = false;
    this.stepStopped();
    return () => {
      if (this.readsSent === allSent) this.readsDone = true;
      resolve();
    };
  }

  /** Undefined when a resume may go now; else a promise that settles when it may (bounded). */
  wait(): Promise<void> | undefined {
    const step = this.step;
    if (step) {
      return bounded(step.stopped).then(() => {
        if (this.step === step) this.step = undefined; // it never stopped (a long step): go on without it
        return this.afterReads();
      });
    }
    return this.afterReads();
  }

  /** `request`, a step, went to dlv: the next resume waits for its stop. */
  stepSent(request: DebugProtocol.Request): void {
    let arrived!: () => void;
    const stopped = new Promise<void>((r) => (arrived = r));
    this.step = { request, stopped, arrived };
  }

  /** dlv refused `request`, or the program ended: a resume waiting for its stop goes on. */
  noStopComing(request?: DebugProtocol.Request): void {
    if (!request || this.step?.request === request) this.stepStopped();
  }

  private afterReads(): Promise<void> | undefined {
    return this.readsDone ? undefined : bounded(this.readsSent);
  }

  private stepStopped(): void {
    const step = this.step;
    this.step = undefined;
    step?.arrived();
  }
}
