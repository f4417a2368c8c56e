// Answers the custom request `bluepill/explain` ({ frameId } or { address }) inside
// a debug session: the facts come from dlv (the frame, a one-instruction
// disassembly) and the local binary's symbols, the words from explain().
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { errorResponse, notConnectedResponse, ProxyErrorId, successResponse } from '../../dap/messages';
import { explain, type ExplainInput } from '../../explain/explain';
import { isUnsymbolized } from '../../bluepill/classify';
import { isProxyFrameId, type BluepillSession } from './session';
import { HEX_ADDRESS_HINT, parseHexAddress } from '../../explain/hexAddress';

export const EXPLAIN_REQUEST = 'bluepill/explain';

export function explainRequest(session: BluepillSession): ProxyHook {
  return {
    name: 'explainRequest',
    stage: 'answer',
    answer(request) {
      if (request.command !== EXPLAIN_REQUEST) return undefined;
      return explainAnswer(session, request);
    },
  };
}

async function explainAnswer(session: BluepillSession, request: DebugProtocol.Request): Promise<DebugProtocol.Response> {
  const args = (request.arguments ?? {}) as { frameId?: unknown; address?: unknown };
  if (!session.ctx.sessionArgs) {
    return notConnectedResponse(request, 'without one, `bluepill-lens explain --binary FILE ADDRESS` explains a PC of a binary');
  }
  const frame = typeof args.frameId === 'number' ? session.frameById.get(args.frameId) : undefined;
  const pc = parseHexAddress(frame?.instructionPointerReference ?? args.address);
  if (pc === undefined) {
    return errorResponse(request, ProxyErrorId.badArguments, args.frameId !== undefined ? 'That stack frame is gone (the debuggee ran since): select a frame of the current stop.' : `Give { "address": "0x…" } or { "frameId": N }: ${HEX_ADDRESS_HINT}.`);
  }
  return successResponse(request, explain(await explainFacts(session, pc, frame)));
}

/** What the session knows of a PC: dlv's frame and instruction, the local binary's symbol. */
export async function explainFacts(session: BluepillSession, pc: bigint, frame: DebugProtocol.StackFrame | undefined): Promise<ExplainInput> {
  // A frame the proxy unwound from the signal context has an id dlv does not know.
  const frameId = frame && !isUnsymbolized(frame.name) && !isProxyFrameId(frame.id) ? frame.id : session.symbolizedFrameId();
  const variant = await session.variant(frameId);
  const arch = variant?.arch ?? 'arm64';
  const local = session.symbolFor(pc);
  const [symbol, offset] = local ? splitOffset(local) : frame && !isUnsymbolized(frame.name) ? [frame.name, undefined] : [undefined, undefined];
  const ins = await session.instructions.at(pc, frameId);
  const instruction: ExplainInput['instruction'] = ins?.bytes ? { text: ins.text, bytes: ins.bytes } : undefined;
  const source = frame?.source?.path && frame.line > 0 ? { file: frame.source.path, line: frame.line } : ins?.file && ins.line ? { file: ins.file, line: ins.line } : undefined;
  return { address: pc, arch, variant, symbol, offset, source, instruction, origin: 'the debug session (dlv)' };
}

function splitOffset(symbol: string): [string, bigint | undefined] {
  const m = /^(.*)\+0x([0-9a-f]+)$/.exec(symbol);
  return m ? [m[1], BigInt(`0x${m[2]}`)] : [symbol, undefined];
}
