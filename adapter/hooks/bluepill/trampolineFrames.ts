// Labels stack frames that have no symbol but whose code is the rt_sigreturn
// trampoline: `[vdso] __kernel_rt_sigreturn (rt_sigreturn trampoline)`.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { isUnsymbolized } from '../../bluepill/classify';
import { AMD64_SIGRETURN_BYTES, ARM64_SIGRETURN_WORDS, le32, trampolineLabel, type Variant } from '../../bluepill/model';
import type { BluepillSession } from './session';

const ARM64_TRAMPOLINE = Buffer.from(ARM64_SIGRETURN_WORDS.map(le32).join(''), 'hex');
const AMD64_TRAMPOLINE = Buffer.from(AMD64_SIGRETURN_BYTES, 'hex');

/** Whether the code around `pc` is the trampoline (pc at its first or at its last instruction). */
export async function isTrampolineAt(session: BluepillSession, variant: Variant, pc: bigint, frameId: number): Promise<boolean> {
  const pattern = variant.arch === 'arm64' ? ARM64_TRAMPOLINE : AMD64_TRAMPOLINE;
  const lastInstruction = variant.arch === 'arm64' ? 4 : 7;
  for (const start of [pc, pc - BigInt(lastInstruction)]) {
    const code = await session.instructions.bytesAt(start, pattern.length, frameId);
    if (code?.equals(pattern)) return true;
  }
  return false;
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
