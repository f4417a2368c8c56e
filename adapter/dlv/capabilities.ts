// What dlv answers to `initialize`, for when a client must be answered before any dlv
// runs (a stdio adapter that finds no dlv until launch names one). Measured from the
// pinned dlv (1.27.2); test/adapter/badInput.test.ts compares it with that dlv's own
// answer, so it cannot go stale unnoticed when the pin moves. Capabilities of the dlv
// a launch then starts follow in a `capabilities` event.
import type { DebugProtocol } from '@vscode/debugprotocol';

export const PINNED_DLV_VERSION = '1.27.2';

export const PINNED_DLV_CAPABILITIES: DebugProtocol.Capabilities = {
  supportsConfigurationDoneRequest: true,
  supportsFunctionBreakpoints: true,
  supportsConditionalBreakpoints: true,
  supportsHitConditionalBreakpoints: true,
  supportsEvaluateForHovers: true,
  exceptionBreakpointFilters: [
    { filter: 'unrecovered-panic', label: 'Unrecovered Panics', default: true },
    { filter: 'runtime-fatal-throw', label: 'Fatal Throws', default: true },
  ],
  supportsSetVariable: true,
  supportsRestartRequest: true,
  supportsExceptionInfoRequest: true,
  supportsDelayedStackTraceLoading: true,
  supportsLogPoints: true,
  supportsDataBreakpoints: true,
  supportsReadMemoryRequest: true,
  supportsWriteMemoryRequest: true,
  supportsDisassembleRequest: true,
  supportsClipboardContext: true,
  supportsSteppingGranularity: true,
  supportsInstructionBreakpoints: true,
};
