// dlv cannot disassemble code outside the binary's functions (error 2013 "could not
// find memory reference"): the vDSO's rt_sigreturn trampoline, for one. The proxy
// then reads the memory itself and answers with what it decodes.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { readBytesPrefix } from '../../bluepill/memory';
import { decodeAmd64, decodeArm64 } from '../../bluepill/miniDisassembler';
import type { BluepillSession } from './session';

/** VS Code's Disassembly view asks for 400 or so around the PC at a time. */
const MAX_INSTRUCTIONS = 1024;
/** The longest amd64 instruction. */
const AMD64_MAX_LENGTH = 15;

function cannotDisassemble(response: DebugProtocol.Response): boolean {
  const error = (response as DebugProtocol.ErrorResponse).body?.error;
  return error?.id === 2013 || /could not find memory reference|no function|unknown address/i.test(error?.format ?? response.message ?? '');
}

export function disassembleFallback(session: BluepillSession): ProxyHook {
  return {
    name: 'disassembleFallback',
    stage: 'replace',
    rewriteResponse(response, request) {
      if (request.command !== 'disassemble' || response.success || !cannotDisassemble(response)) return;
      return answerFromMemory(session, response, request);
    },
  };
}

async function answerFromMemory(session: BluepillSession, response: DebugProtocol.Response, request: DebugProtocol.Request): Promise<boolean> {
  const args = request.arguments as DebugProtocol.DisassembleArguments;
  const frameId = session.symbolizedFrameId();
  const variant = await session.variant(frameId);
  if (!variant || frameId === undefined) return false;
  const count = Math.min(args.instructionCount, MAX_INSTRUCTIONS);
  const width = variant.arch === 'arm64' ? 4 : 1;
  const start = BigInt(args.memoryReference) + BigInt(args.offset ?? 0) + BigInt((args.instructionOffset ?? 0) * width);
  // amd64 instructions are 1 to 15 bytes: read what `count` of them may need, up to the
  // first unreadable chunk (the mapping of such code often ends with its page).
  const wanted = count * (variant.arch === 'arm64' ? 4 : AMD64_MAX_LENGTH);
  const code = await readBytesPrefix(session.ctx, start, wanted, frameId);
  if (!code) return false; // unmapped: dlv's error stands
  const decoded = (variant.arch === 'arm64' ? decodeArm64(start, code) : decodeAmd64(start, code)).slice(0, count);
  const instructions: DebugProtocol.DisassembledInstruction[] = decoded.map((d, i) => ({
    address: `0x${d.address.toString(16)}`,
    instructionBytes: d.bytes.toString('hex'),
    instruction: d.text,
    ...(i === 0 ? { symbol: 'no symbol: decoded by bluepill-lens from memory' } : {}),
  }));
  const answer = response as DebugProtocol.DisassembleResponse;
  answer.success = true;
  delete (answer as { message?: string }).message;
  answer.body = { instructions };
  return true;
}
