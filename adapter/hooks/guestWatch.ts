// While a session is attached to a runsc sandbox on this machine, watches its KVM guest
// through the host kernel's trace events (adapter/guest/) and sends what it finds to the
// client once a second as `bluepill/guest` events, while the sandbox runs, not only at
// stops. If the guest cannot be watched (not root, no tracefs...), one event says why and
// what to do. The trace instance goes with the session. At each stop it also reads the
// Sentry's vCPU table through dlv (guest/vcpuTable.ts) and which threads the kernel shows in
// ioctl(KVM_RUN), and sends the join as a `bluepill/guest` event `{ vcpus, kvmRun }`.
// The watch is shared with the Call Stack's guest frames (bluepill/guestFrames.ts) by a GuestLink.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { GUEST_EVENT } from '../bluepill/state';
import { closeAllTraceInstances } from '../guest/tracefs';
import { startGuestWatch, type GuestWatch } from '../guest/watch';
import { readVcpuTable, type GuestStopBody } from '../guest/vcpuTable';
import { kvmRunThreads } from '../guest/vcpuThreads';
import { readProcess } from '../processes/procfs';
import { classifyProcess } from '../processes/sandboxes';
import type { ProxyContext, ProxyHook } from '../session/hooks';

/** The sandbox pid a successful attach request debugs, if it is a local runsc sandbox. */
export function sandboxOfAttach(request: DebugProtocol.Request, procRoot = '/proc'): number | undefined {
  const args = (request.arguments ?? {}) as { mode?: unknown; processId?: unknown; guestTrace?: unknown };
  if (request.command !== 'attach' || (args.mode !== undefined && args.mode !== 'local') || args.guestTrace === false) return undefined;
  const pid = Number(args.processId);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const info = readProcess(procRoot, pid);
  if (!info) return undefined;
  return args.guestTrace === true || classifyProcess(info).sandbox ? pid : undefined;
}

let exitHandlerInstalled = false;

/**
 * However this process ends (the adapter or the editor closing), the trace instances go with it;
 * after a SIGKILL the next tracer removes them (their names hold our pid and start time).
 * Once per process, however many sessions watch a guest.
 */
function cleanUpAtExit(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.once('exit', closeAllTraceInstances);
}

/** The session's guest watch, shared by the hooks that show it (the Call Stack's guest frames). */
export class GuestLink {
  watch: GuestWatch | undefined;
  pid: number | undefined;
  /** Counts stops and resumes: a read made for one stop is stale once it changed. */
  generation = 0;
}

export type { GuestStopBody } from '../guest/vcpuTable';

const RESUMES = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame']);

export function guestWatch(ctx: ProxyContext, start: typeof startGuestWatch = startGuestWatch, link = new GuestLink()): ProxyHook {
  const stop = () => {
    const w = link.watch;
    link.watch = undefined;
    try {
      w?.stop();
    } catch {
      // the instance is gone already (removed by someone else): nothing left to undo
    }
  };
  return {
    name: 'guestWatch',
    stage: 'observe',
    rewriteResponse(response, request) {
      if (request.command === 'disconnect' || request.command === 'terminate') return stop();
      if (!response.success || link.watch) return;
      const pid = sandboxOfAttach(request);
      if (pid === undefined) return;
      cleanUpAtExit();
      link.pid = pid;
      try {
        link.watch = start(pid, undefined, (summary) => {
          ctx.sendEvent(GUEST_EVENT, { summary });
          if (!readProcess('/proc', pid)) stop(); // the sandbox is gone: nothing more to watch
        }, {
          onError: (e) => {
            link.watch = undefined;
            ctx.sendEvent(GUEST_EVENT, { error: `The guest watch stopped: ${e.message}` });
          },
        });
      } catch (e) {
        ctx.sendEvent(GUEST_EVENT, { error: `The guest of sandbox ${pid} is not watched: ${(e as Error).message}` });
      }
    },
    answer(request) {
      if (RESUMES.has(request.command)) link.generation++;
      return undefined;
    },
    rewriteEvent(event) {
      if (event.event === 'terminated' || event.event === 'exited') stop();
      if (event.event === 'stopped' && link.watch) {
        const generation = ++link.generation;
        void vcpusAtStop(ctx, link, generation).then((body) => {
          if (body && generation === link.generation) ctx.sendEvent(GUEST_EVENT, body);
        });
      }
    },
  };
}

/** The Sentry's vCPU table and the threads in KVM_RUN, read at this stop (undefined if the program moved on). */
async function vcpusAtStop(ctx: ProxyContext, link: GuestLink, generation: number): Promise<GuestStopBody | undefined> {
  const { watch, pid } = link;
  if (!watch || pid === undefined) return undefined;
  const kvmRun = kvmRunThreads(pid, watch.arch);
  const evaluate = async (expression: string) => {
    if (generation !== link.generation) return undefined; // resumed: dlv would only answer "running"
    const r = (await ctx.requestDlv('evaluate', { expression, context: 'clipboard' })) as DebugProtocol.EvaluateResponse;
    return r.success ? r.body?.result : undefined;
  };
  try {
    const vcpus = await readVcpuTable(evaluate, kvmRun);
    return generation === link.generation ? { vcpus, kvmRun } : undefined;
  } catch (e) {
    return generation === link.generation ? { kvmRun, vcpuError: (e as Error).message } : undefined;
  }
}
