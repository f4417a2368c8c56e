// While a session is attached to a runsc sandbox on this machine, watches its KVM guest
// through the host kernel's trace events (adapter/guest/) and sends what it finds to the
// client once a second as `bluepill/guest` events, while the sandbox runs, not only at
// stops. If the guest cannot be watched (not root, no tracefs...), one event says why and
// what to do. The trace instance goes with the session.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { GUEST_EVENT } from '../bluepill/state';
import { closeAllTraceInstances } from '../guest/tracefs';
import { startGuestWatch, type GuestWatch } from '../guest/watch';
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

export function guestWatch(ctx: ProxyContext, start: typeof startGuestWatch = startGuestWatch): ProxyHook {
  let watch: GuestWatch | undefined;
  const stop = () => {
    const w = watch;
    watch = undefined;
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
      if (!response.success || watch) return;
      const pid = sandboxOfAttach(request);
      if (pid === undefined) return;
      cleanUpAtExit();
      try {
        watch = start(pid, undefined, (summary) => {
          ctx.sendEvent(GUEST_EVENT, { summary });
          if (!readProcess('/proc', pid)) stop(); // the sandbox is gone: nothing more to watch
        }, {
          onError: (e) => {
            watch = undefined;
            ctx.sendEvent(GUEST_EVENT, { error: `The guest watch stopped: ${e.message}` });
          },
        });
      } catch (e) {
        ctx.sendEvent(GUEST_EVENT, { error: `The guest of sandbox ${pid} is not watched: ${(e as Error).message}` });
      }
    },
    rewriteEvent(event) {
      if (event.event === 'terminated' || event.event === 'exited') stop();
    },
  };
}
