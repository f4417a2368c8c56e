// The hooks every session runs, in order. Each feature is one module here.
import type { ProxyHook } from '../dap/hooks';
import { launchErrorAdvice } from './launchErrorAdvice';

export function defaultHooks(): ProxyHook[] {
  return [launchErrorAdvice];
}
