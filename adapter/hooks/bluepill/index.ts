// The bluepill hooks of one session, sharing one BluepillSession.
import type { ProxyHook } from '../../dap/hooks';
import { breakpointSafety } from './breakpointSafety';
import { disassembleFallback } from './disassembleFallback';
import { explainRequest } from './explainRequest';
import { BluepillSession, type BluepillSettings } from './session';
import { trampolineFrames } from './trampolineFrames';
import { bluepillTracker } from './tracker';

export function bluepillHooks(settings: BluepillSettings = {}): ProxyHook[] {
  const session = new BluepillSession(settings);
  return [trampolineFrames(session), disassembleFallback(session), breakpointSafety(session), bluepillTracker(session), explainRequest(session)];
}

export type { BluepillSettings, ExtraLandmark } from './session';
