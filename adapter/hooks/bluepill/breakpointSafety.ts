// Breakpoints in code that runs in guest mode (judged by adapter/bluepill/guestCode.ts from
// gVisor's source) come back with a message naming the reason; the first one of a session
// also raises a notification (a `bluepill/warning` event and an output line).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyContext, ProxyHook } from '../../dap/hooks';
import { WARNING_EVENT } from '../../bluepill/state';
import { functionAtLine, guestBreakpointWarning, judgeFunction } from '../../bluepill/guestCode';
import { outputEvent } from '../../dap/messages';
import type { BluepillSession } from './session';

export function breakpointSafety(session: BluepillSession): ProxyHook {
  let warned = false;
  /** Marks the breakpoint when its function runs in guest mode; the first one also notifies. */
  const judge = (ctx: ProxyContext, bp: DebugProtocol.Breakpoint, what: string, functionName: string | undefined) => {
    const warning = functionName ? guestBreakpointWarning(judgeFunction(functionName)) : undefined;
    if (!warning) return;
    bp.message = bp.message ? `${bp.message}\n${warning}` : warning;
    if (warned) return;
    warned = true;
    ctx.sendEvent(WARNING_EVENT, { message: `Breakpoint ${what}: ${warning}` });
    ctx.sendEvent('output', outputEvent('important', `bluepill-lens: breakpoint ${what}: ${warning}\n`).body);
  };

  return {
    name: 'breakpointSafety',
    rewriteResponse(response, request, ctx) {
      if (!response.success || !request.command.startsWith('set') || !request.command.endsWith('Breakpoints')) return;
      const breakpoints = (response.body as { breakpoints?: DebugProtocol.Breakpoint[] } | undefined)?.breakpoints;
      if (!breakpoints) return;
      if (request.command === 'setFunctionBreakpoints') {
        const asked = (request.arguments as DebugProtocol.SetFunctionBreakpointsArguments).breakpoints;
        asked.forEach((b, i) => breakpoints[i] && judge(ctx, breakpoints[i], `on ${b.name}`, b.name));
      } else if (request.command === 'setBreakpoints') {
        const args = request.arguments as DebugProtocol.SetBreakpointsArguments;
        const source = args.source.path ? readSource(args.source.path) : undefined;
        breakpoints.forEach((bp, i) => {
          const line = bp.line ?? args.breakpoints?.[i]?.line;
          if (source && line) judge(ctx, bp, `at ${path.basename(args.source.path!)}:${line}`, functionAtLine(source, line));
        });
      } else if (request.command === 'setInstructionBreakpoints') {
        session.bind(ctx);
        const asked = (request.arguments as DebugProtocol.SetInstructionBreakpointsArguments).breakpoints;
        return (async () => {
          for (const [i, bp] of breakpoints.entries()) {
            const address = bp.instructionReference ?? asked[i]?.instructionReference; // dlv does not echo it
            if (!address) continue;
            const symbol = session.symbolFor(BigInt(address)) ?? (await locationFunction(ctx, address));
            judge(ctx, bp, `at ${address} (${symbol})`, symbol);
          }
        })();
      }
    },
  };
}

/** The function dlv places an address in, through the instruction's source file and line. */
async function locationFunction(ctx: ProxyContext, address: string): Promise<string | undefined> {
  const r = (await ctx.requestDlv('disassemble', { memoryReference: address, instructionCount: 1 })) as DebugProtocol.DisassembleResponse;
  const instruction = r.success ? r.body?.instructions?.[0] : undefined;
  const source = instruction?.location?.path ? readSource(instruction.location.path) : undefined;
  return source && instruction?.line ? functionAtLine(source, instruction.line) : undefined;
}

function readSource(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // a source we cannot read: no judgement
  }
}
