// The bluepill hooks of one session, sharing one BluepillSession.
import type { ProxyContext, ProxyHook } from '../../session/hooks';
import { breakpointSafety } from './breakpointSafety';
import { disassembleFallback } from './disassembleFallback';
import { explainRequest } from './explainRequest';
import { BluepillSession, type BluepillSettings } from './session';
import { signalStackHooks } from './signalStack';
import { trampolineFrames } from './trampolineFrames';
import { bluepillTracker } from './tracker';

export function bluepillHooks(ctx: ProxyContext, settings: BluepillSettings = {}): ProxyHook[] {
  const session = new BluepillSession(ctx, settings);
  return [explainRequest(session), disassembleFallback(session), trampolineFrames(session), ...signalStackHooks(session), breakpointSafety(session), bluepillTracker(session)];
}

export type { BluepillSettings, ExtraLandmark } from './session';
