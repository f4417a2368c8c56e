// Answers the custom request `bluepill/explainAddress` ({ address }): Explain This Address
// for any DAP client. What the address is comes from explainSessionAddress (the debuggee's
// /proc and ELF here, the binary's sections for a board, dlv for the Go heap span); code is
// also explained as a PC (function, instruction, bluepill role), as `bluepill/explain` does.
import { HEX_ADDRESS_HINT, parseHexAddress } from '../../explain/hexAddress';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { errorResponse, notConnectedResponse, ProxyErrorId, successResponse } from '../../dap/messages';
import { localBinary, namedProgram } from '../../config/launchArgs';
import { explainSessionAddress } from '../../explain/sessionAddress';
import { ProcessReadError } from '../../explain/localProcess';
import { explain } from '../../explain/explain';
import { evaluateText } from '../../bluepill/memory';
import { explainFacts } from './explainRequest';
import type { BluepillSession } from './session';

export const EXPLAIN_ADDRESS_REQUEST = 'bluepill/explainAddress';

export function explainAddressRequest(session: BluepillSession): ProxyHook {
  return {
    name: 'explainAddressRequest',
    stage: 'answer',
    answer(request) {
      if (request.command !== EXPLAIN_ADDRESS_REQUEST) return undefined;
      return answer(session, request);
    },
  };
}

async function answer(session: BluepillSession, request: DebugProtocol.Request): Promise<DebugProtocol.Response> {
  const address = parseHexAddress((request.arguments as { address?: unknown } | undefined)?.address);
  if (address === undefined) return errorResponse(request, ProxyErrorId.badArguments, `Give { "address": "0x…" }: ${HEX_ADDRESS_HINT}.`);
  const { ctx } = session;
  if (!ctx.sessionArgs) return notConnectedResponse(request, 'without one, `bluepill-lens explain --pid PID ADDRESS` explains an address of a process');
  const frameId = session.symbolizedFrameId();
  try {
    const found = await explainSessionAddress({
      address,
      pid: ctx.localProcesses?.()[0],
      binary: localBinary(ctx.sessionArgs) ?? namedProgram(ctx.sessionArgs),
      // Without a frame of the client's, dlv evaluates in the current goroutine's top frame.
      evaluate: (expression) => evaluateText(ctx, expression, frameId, 'repl'),
    });
    // Code of the program (or an address the process cannot place): as a PC, with dlv's view of it.
    const code = found.code ?? (!found.address || found.address.kind === 'code' ? explain(await explainFacts(session, address, undefined)) : undefined);
    return successResponse(request, { address: found.address, code });
  } catch (e) {
    if (e instanceof ProcessReadError) return errorResponse(request, ProxyErrorId.badArguments, e.message);
    throw e;
  }
}
