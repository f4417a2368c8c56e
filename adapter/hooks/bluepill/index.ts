// The bluepill hooks of one session, sharing one BluepillSession.
import type { ProxyContext, ProxyHook } from '../../session/hooks';
import { breakpointSafety } from './breakpointSafety';
import { disassembleFallback } from './disassembleFallback';
import { explainRequest } from './explainRequest';
import { explainAddressRequest } from './explainAddressRequest';
import { guestFrameHooks } from './guestFrames';
import { GuestLink } from '../guestWatch';
import { BluepillSession, type BluepillSettings } from './session';
import { signalStackHooks } from './signalStack';
import { trampolineFrames } from './trampolineFrames';
import { bluepillTracker } from './tracker';

/** `guest`: the session's guest watch (hooks/guestWatch.ts), for the guest frames above a vCPU thread in KVM_RUN. */
export function bluepillHooks(ctx: ProxyContext, settings: BluepillSettings = {}, guest = new GuestLink()): ProxyHook[] {
  const session = new BluepillSession(ctx, settings);
  // The guest frames page one layer above the signal frames: their request hook goes first, their splice last.
  const guestFrames = guestFrameHooks(session, guest);
  return [explainRequest(session), explainAddressRequest(session), disassembleFallback(session), trampolineFrames(session), guestFrames.requests, ...signalStackHooks(session), guestFrames.splice, breakpointSafety(session), bluepillTracker(session)];
}

export type { BluepillSettings, ExtraLandmark } from './session';
