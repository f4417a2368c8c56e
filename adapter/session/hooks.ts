// The proxy is a pipe with hooks: each feature is one hook module. Hooks run in one
// ordered pipeline, by stage, and in list order within a stage:
//   1. answer   - answers a request itself (custom requests, e.g. bluepill/explain);
//   2. replace  - turns a failed dlv response into a real answer (the disassembly fallback);
//   3. annotate - adds to what the client sees (register names, trampoline labels, advice);
//   4. observe  - reads what went by, changes nothing the client sees (the round-trip tracker).
// So every annotation sees the final text of a response, whoever produced it.
// A hook gets its context (the proxy, or a read-only observer) when it is made.
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface ProxyContext {
  /** Sends a request of the proxy's own to dlv; its response never reaches the client. */
  requestDlv(command: string, args?: unknown): Promise<DebugProtocol.Response>;
  /** Sends an event to the client, after everything dlv sent before it. */
  sendEvent(event: string, body?: unknown): void;
  /** The launch/attach arguments of this session, once known. */
  readonly sessionArgs: Readonly<Record<string, unknown>> | undefined;
  /** Resolves once what was sent to the client so far has left in a write; undefined when nothing waits (an inline client). */
  clientWritten?(): Promise<void> | undefined;
  /** The debuggee's pids when dlv runs it on this machine (launched by our dlv, or attached locally); none otherwise. */
  localProcesses?(): number[];
}

export const HOOK_STAGES = ['answer', 'replace', 'annotate', 'observe'] as const;
export type HookStage = (typeof HOOK_STAGES)[number];

/** true when the hook changed the message (it is then written anew, not as the bytes it came in). */
export type HookResult = void | boolean | Promise<void | boolean>;

export interface ProxyHook {
  readonly name: string;
  readonly stage: HookStage;
  /**
   * Return a response to answer the request without dlv, or undefined to forward it.
   * A promise holds the request (and every later one) back until it settles.
   */
  answer?(request: DebugProtocol.Request): DebugProtocol.Response | undefined | Promise<DebugProtocol.Response | undefined>;
  /** Rewrite (mutate) a dlv response before the client sees it; return true if it changed. */
  rewriteResponse?(response: DebugProtocol.Response, request: DebugProtocol.Request): HookResult;
  /** Rewrite (mutate) a dlv event before the client sees it; return true if it changed. */
  rewriteEvent?(event: DebugProtocol.Event): HookResult;
}

/** Makes a session's hooks, given the context they will use. */
export type HookFactory = (ctx: ProxyContext) => ProxyHook[];

/** The hooks in pipeline order: by stage, then as listed. */
export function pipelineOrder(hooks: ProxyHook[]): ProxyHook[] {
  return hooks
    .map((hook, i) => ({ hook, i }))
    .sort((a, b) => HOOK_STAGES.indexOf(a.hook.stage) - HOOK_STAGES.indexOf(b.hook.stage) || a.i - b.i)
    .map((x) => x.hook);
}
