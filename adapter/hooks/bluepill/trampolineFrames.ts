// Labels stack frames that have no symbol but whose code is the rt_sigreturn
// trampoline: `[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)`.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { isUnsymbolized } from '../../bluepill/classify';
import { trampolineLabel, type Variant } from '../../bluepill/model';
import { isTrampolineAt as isTrampolineCodeAt } from '../../bluepill/trampoline';
import type { BluepillSession } from './session';

/** Whether the code around `pc` is the trampoline (pc at its first or at its last instruction), read through the instruction cache. */
export function isTrampolineAt(session: BluepillSession, variant: Variant, pc: bigint, frameId: number | undefined): Promise<boolean> {
  return isTrampolineCodeAt(variant.arch, pc, (start, count) => session.instructions.bytesAt(start, count, frameId));
}

export function trampolineFrames(session: BluepillSession): ProxyHook {
  return {
    name: 'trampolineFrames',
    stage: 'annotate',
    rewriteResponse(response, request) {
      if (request.command !== 'stackTrace' || !response.success) return;
      const frames = (response as DebugProtocol.StackTraceResponse).body.stackFrames;
      session.rememberFrames(frames);
      const unnamed = frames.filter((f) => isUnsymbolized(f.name) && f.instructionPointerReference);
      if (unnamed.length === 0) return; // the usual case: no memory to read, no waiting
      const threadId = (request.arguments as DebugProtocol.StackTraceArguments).threadId;
      return labelTrampolines(session, frames, unnamed, threadId);
    },
  };
}

async function labelTrampolines(session: BluepillSession, frames: DebugProtocol.StackFrame[], unnamed: DebugProtocol.StackFrame[], threadId: number): Promise<boolean> {
  const frameId = frames.find((f) => !isUnsymbolized(f.name))?.id ?? session.symbolizedFrameId(threadId);
  const variant = await session.variant(frameId);
  if (!variant || frameId === undefined) return false;
  let changed = false;
  for (const frame of unnamed) {
    if (await isTrampolineAt(session, variant, BigInt(frame.instructionPointerReference!), frameId)) {
      frame.name = trampolineLabel(variant.arch);
      frame.presentationHint = 'normal';
      changed = true;
    }
  }
  return changed;
}
