// The hooks every session runs. Their order is the pipeline's (adapter/session/hooks.ts):
// by stage, then as listed here. Each feature is one module.
import type { HookFactory } from '../session/hooks';
import { bluepillHooks, type BluepillSettings } from './bluepill';
import { GuestLink, guestWatch } from './guestWatch';
import { launchErrorAdvice } from './launchErrorAdvice';
import { sysregNames } from './sysregNames';

export function defaultHooks(bluepill: BluepillSettings = {}): HookFactory {
  return (ctx) => {
    const guest = new GuestLink();
    return [launchErrorAdvice, sysregNames, ...bluepillHooks(ctx, bluepill, guest), guestWatch(ctx, undefined, guest)];
  };
}
