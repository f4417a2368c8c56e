// `bluepill-lens guest --pid PID [--seconds N] [--binary PATH] [--json]`: what a sandbox's vCPUs
// run inside the guest, from the host kernel's KVM trace events, named by runsc's symbols.
import { renderSummary } from '../guest/render';
import { GuestTraceError, closeTraceInstancesOnSignals } from '../guest/tracefs';
import { GuestTracer } from '../guest/tracer';
import { CliError, UsageError, type CliCommand } from './command';
import { printable } from './terminalText';

const POLL_MS = 50;
/** Read at most this much per turn, so the timer keeps its beat in a flood. */
const POLL_BYTES = 4 << 20;

export const guestCommand: CliCommand = {
  name: 'guest',
  summary: "What the sandbox's vCPUs run inside the KVM guest, named by runsc's symbols (needs root).",
  synopsis: '--pid PID [--seconds N] [--binary PATH] [--json]',
  help: `guest --pid PID     Like perf kvm stat, but named by runsc's symbols: exits, injected
                    exceptions, emulated instructions, failed guest page walks, the
                    hottest guest code, loops and findings in words. Traces N seconds
                    (default 5) through tracefs, in a trace instance of its own that is
                    removed afterwards; needs root.
--binary PATH       runsc's binary (default: /proc/PID/exe).
--json              One object: hot, loops, findings, threads... (see the README).`,
  options: { pid: { type: 'string' }, seconds: { type: 'string' }, binary: { type: 'string' }, json: { type: 'boolean' } },
  maxPositionals: 0,
  async run({ values }, { out }) {
    const pid = Number(values.pid);
    if (values.pid === undefined || !Number.isInteger(pid) || pid <= 0) {
      const given = values.pid === undefined ? '' : `"${printable(String(values.pid))}" is not a pid: `;
      throw new UsageError(`${given}give the pid of the runsc-sandbox process with --pid PID (bluepill-lens processes lists the sandboxes first).`);
    }
    const seconds = values.seconds === undefined ? 5 : Number(values.seconds);
    if (!(seconds > 0 && seconds <= 3600)) throw new UsageError(`--seconds wants a number of seconds between 0 and 3600; got "${values.seconds}".`);

    closeTraceInstancesOnSignals();
    let tracer: GuestTracer;
    try {
      tracer = new GuestTracer({ pid, binary: values.binary as string | undefined });
    } catch (e) {
      if (e instanceof GuestTraceError) throw new CliError(e.message);
      throw e;
    }
    try {
      const started = Date.now();
      const end = started + seconds * 1000;
      while (Date.now() < end) {
        tracer.poll(POLL_BYTES);
        await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, end - Date.now()))));
      }
      tracer.poll(POLL_BYTES);
      const summary = { ...tracer.summary(true), tracedSeconds: (Date.now() - started) / 1000 };
      out.write(values.json ? JSON.stringify(summary, null, 2) + '\n' : renderSummary(summary));
      return 0;
    } finally {
      tracer.close();
    }
  },
};
