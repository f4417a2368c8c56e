// The hooks every session runs, in order. Each feature is one module here.
import type { ProxyHook } from '../dap/hooks';
import { launchErrorAdvice } from './launchErrorAdvice';
import { sysregNames } from './sysregNames';

export function defaultHooks(): ProxyHook[] {
  return [launchErrorAdvice, sysregNames];
}
