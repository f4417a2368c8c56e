// Breakpoints in code that also runs inside the KVM guest (ring0, the bluepill
// path) come back with a message explaining the danger; the first one of a session
// also raises a notification (a `bluepill/warning` event and an output line).
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { WARNING_EVENT } from '../../bluepill/state';
import { shortName } from '../../bluepill/symbols';
import { outputEvent } from '../../dap/messages';
import type { BluepillSession } from './session';

const GUEST_FUNCTIONS = [/^ring0\./, /^kvm\.(bluepill|sighandler|redpill|dieTrampoline|bluepillHandler|bluepillGuestExit|bluepillArch)/, /^kvm\.\(\*vCPU\)\.(SwitchToUser|KernelSyscall|KernelException)$/];

export function runsInGuestByName(functionName: string): boolean {
  const short = shortName(functionName.trim());
  return GUEST_FUNCTIONS.some((re) => re.test(short));
}

/** Source files of that code: gVisor's pkg/ring0, and the kvm package's bluepill and machine files. */
export function runsInGuestByPath(file: string): boolean {
  const dir = path.basename(path.dirname(file));
  const base = path.basename(file);
  return dir === 'ring0' || (dir === 'kvm' && /^(bluepill|machine)/.test(base));
}

/** Where a breakpoint is: its function, or its source file. */
export interface GuestCodePlace {
  functionName?: string;
  file?: string;
}

/** The judgement: does code at this place also run inside the KVM guest? */
export function runsInGuest(place: GuestCodePlace): boolean {
  return (place.functionName !== undefined && runsInGuestByName(place.functionName)) || (place.file !== undefined && runsInGuestByPath(place.file));
}

export const GUEST_BREAKPOINT_MESSAGE =
  'This code also runs inside the KVM guest. A software breakpoint here traps in guest mode (a KVM debug exit kills the sandbox) ' +
  'or, hit on the host mid round trip, makes bluepillGuestExit record the wrong exit PC, and the sandbox continues incorrectly. ' +
  'Prefer a breakpoint in kvm.bluepillGuestExit, or after the round trip.';

export function breakpointSafety(session: BluepillSession): ProxyHook {
  let warned = false;
  const { ctx } = session;
  const warn = (what: string) => {
    if (warned) return;
    warned = true;
    ctx.sendEvent(WARNING_EVENT, { message: `Breakpoint ${what}: ${GUEST_BREAKPOINT_MESSAGE}` });
    ctx.sendEvent('output', outputEvent('important', `bluepill-lens: breakpoint ${what} is in code that also runs inside the KVM guest. ${GUEST_BREAKPOINT_MESSAGE}\n`).body);
  };
  /** Marks a breakpoint whose place runs in the guest; true if it did. */
  const check = (bp: DebugProtocol.Breakpoint | undefined, place: GuestCodePlace, what: string): boolean => {
    if (!bp || !runsInGuest(place)) return false;
    bp.message = bp.message ? `${bp.message}\n${GUEST_BREAKPOINT_MESSAGE}` : GUEST_BREAKPOINT_MESSAGE;
    warn(what);
    return true;
  };

  return {
    name: 'breakpointSafety',
    stage: 'annotate',
    rewriteResponse(response, request) {
      if (!response.success || !request.command.startsWith('set') || !request.command.endsWith('Breakpoints')) return;
      const breakpoints = (response.body as { breakpoints?: DebugProtocol.Breakpoint[] } | undefined)?.breakpoints;
      if (!breakpoints) return;
      if (request.command === 'setFunctionBreakpoints') {
        const asked = (request.arguments as DebugProtocol.SetFunctionBreakpointsArguments).breakpoints;
        return asked.map((b, i) => check(breakpoints[i], { functionName: b.name }, `on ${b.name}`)).some(Boolean);
      }
      if (request.command === 'setBreakpoints') {
        const file = (request.arguments as DebugProtocol.SetBreakpointsArguments).source.path;
        return file !== undefined && breakpoints.map((bp) => check(bp, { file }, `in ${path.basename(file)}`)).some(Boolean);
      }
      if (request.command === 'setInstructionBreakpoints') {
        return (async () => {
          let changed = false;
          for (const bp of breakpoints) {
            const address = bp.instructionReference;
            if (!address) continue;
            const symbol = session.symbolFor(BigInt(address));
            const file = symbol ? undefined : (await session.instructions.at(BigInt(address)))?.file;
            changed = check(bp, { functionName: symbol?.replace(/\+0x[0-9a-f]+$/, ''), file }, `at ${address} (${symbol ?? file})`) || changed;
          }
          return changed;
        })();
      }
    },
  };
}
