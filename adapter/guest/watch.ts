// The session-facing API: watch one sandbox's guest and get a GuestSummary every second,
// while the sandbox runs (not only at stops). The debug session, the Bluepill State view and
// the timeline consume exactly that shape (summary.ts).
import type { GuestSummary, LastGuestPc } from './summary';
import { GuestTracer } from './tracer';

const POLL_BYTES = 1 << 20;

export interface GuestWatch {
  /** Stops tracing (the trace instance is removed) and gives the last summary. Safe to call twice. */
  stop(): GuestSummary;
  /** Where thread `tid`'s guest was last seen, after reading what the kernel has now (undefined: no event of it yet, or stopped). */
  lastGuestPc(tid: number): LastGuestPc | undefined;
  /** The threads the trace has seen events of. */
  tracedThreads(): number[];
  /** The sandbox's architecture, from runsc's ELF. */
  readonly arch: GuestSummary['arch'];
}

export interface GuestWatchOptions {
  /** How often a summary is emitted (default 1000 ms). */
  intervalMs?: number;
  /** How often trace_pipe is drained (default 50 ms: the kernel's buffer must not fill up). */
  pollMs?: number;
  /** Called if reading the trace fails later (the instance was removed by someone else…); the watch has stopped then. */
  onError?: (error: Error) => void;
}

/**
 * Starts tracing the guest of sandbox `pid` (runsc's binary: `binary`, or /proc/PID/exe) and calls
 * `onSummary` every interval with everything seen since the start. Throws a GuestTraceError, worded
 * for the user, if it cannot start (not root, tracefs not mounted, no KVM events, no such process).
 * Summaries are cumulative; a summary's `seconds` and counts give the rates.
 */
export function startGuestWatch(pid: number, binary: string | undefined, onSummary: (summary: GuestSummary) => void, options: GuestWatchOptions = {}): GuestWatch {
  const tracer = new GuestTracer({ pid, binary });
  let last: GuestSummary | undefined;
  let stopped = false;
  const guarded = (work: () => void) => () => {
    try {
      work();
    } catch (e) {
      watch.stop();
      options.onError?.(e as Error);
    }
  };
  // At most 1 MB per turn of the event loop: the host process (VS Code's) stays responsive in a flood.
  const poll = setInterval(guarded(() => tracer.poll(POLL_BYTES)), options.pollMs ?? 50);
  const emit = setInterval(
    guarded(() => {
      last = tracer.summary();
      onSummary(last);
    }),
    options.intervalMs ?? 1000,
  );
  const watch: GuestWatch = {
    arch: tracer.symbols.arch,
    lastGuestPc(tid) {
      if (stopped) return undefined;
      guarded(() => tracer.poll(POLL_BYTES))();
      return stopped ? undefined : tracer.lastGuestPc(tid);
    },
    tracedThreads: () => tracer.tracedThreads(),
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(poll);
        clearInterval(emit);
        try {
          tracer.poll(POLL_BYTES);
          last = tracer.summary();
        } finally {
          tracer.close();
        }
      }
      return last!;
    },
  };
  return watch;
}
