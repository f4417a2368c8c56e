// The hooks every session runs, in order. Each feature is one module here.
import type { ProxyHook } from '../dap/hooks';
import { bluepillHooks, type BluepillSettings } from './bluepill';
import { launchErrorAdvice } from './launchErrorAdvice';
import { sysregNames } from './sysregNames';

export function defaultHooks(bluepill: BluepillSettings = {}): ProxyHook[] {
  return [launchErrorAdvice, sysregNames, ...bluepillHooks(bluepill)];
}
