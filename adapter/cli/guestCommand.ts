// `bluepill-lens guest --pid PID [--seconds N] [--binary PATH] [--json]`: what a sandbox's vCPUs
// run inside the guest, from the host kernel's KVM trace events, named by runsc's symbols.
import { parseFlags } from './flags';
import { renderSummary } from '../guest/render';
import { GuestTraceError, closeTraceInstancesOnSignals } from '../guest/tracefs';
import { GuestTracer } from '../guest/tracer';

export const GUEST_USAGE = `  guest --pid PID [--seconds N] [--binary PATH] [--json]
                 What the sandbox's vCPUs run inside the KVM guest, like perf kvm
                 stat but named by runsc's symbols: exits, injected exceptions,
                 emulated instructions, the hottest guest code, loops, findings.
                 Traces N seconds (default 5) through tracefs; needs root.
`;

const POLL_MS = 50;

export async function guestCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const parsed = parseFlags(args, ['pid', 'seconds', 'binary'], ['json']);
  if (typeof parsed === 'string') return fail(err, parsed);
  const { flags, positional } = parsed;
  if (positional.length) return fail(err, `unexpected "${positional[0]}": give the sandbox with --pid PID.`);
  const pid = Number(flags.pid);
  if (!flags.pid || !Number.isInteger(pid) || pid <= 0) return fail(err, 'give the pid of the runsc-sandbox process with --pid PID (bluepill-lens processes lists the sandboxes first).');
  const seconds = flags.seconds === undefined ? 5 : Number(flags.seconds);
  if (!(seconds > 0 && seconds <= 3600)) return fail(err, `--seconds wants a number of seconds between 0 and 3600; got "${flags.seconds}".`);

  closeTraceInstancesOnSignals();
  let tracer: GuestTracer;
  try {
    tracer = new GuestTracer({ pid, binary: flags.binary as string | undefined });
  } catch (e) {
    if (e instanceof GuestTraceError) return fail(err, e.message, 1);
    throw e;
  }
  try {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      tracer.poll();
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, end - Date.now()))));
    }
    tracer.poll();
    const summary = tracer.summary(true);
    out.write(flags.json ? JSON.stringify(summary, null, 2) + '\n' : renderSummary(summary));
    return 0;
  } finally {
    tracer.close();
  }
}

function fail(err: NodeJS.WritableStream, message: string, code = 2): number {
  err.write(`bluepill-lens guest: ${message}\n`);
  return code;
}
