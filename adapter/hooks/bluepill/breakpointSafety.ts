// Breakpoints in code that runs in guest mode (judged by adapter/bluepill/guestCode.ts from
// gVisor's source) come back with a message naming the reason; the first one of a session
// also raises a notification (a `bluepill/warning` event and an output line).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyHook } from '../../session/hooks';
import { WARNING_EVENT } from '../../bluepill/state';
import { functionAtLine, guestBreakpointWarning, judgeFunction } from '../../bluepill/guestCode';
import { outputEvent } from '../../dap/messages';
import type { BluepillSession } from './session';

export function breakpointSafety(session: BluepillSession): ProxyHook {
  const { ctx } = session;
  let warned = false;
  /** Marks the breakpoint when its function runs in guest mode (true if it did); the first one also notifies. */
  const judge = (bp: DebugProtocol.Breakpoint | undefined, what: string, functionName: string | undefined): boolean => {
    const warning = bp && functionName ? guestBreakpointWarning(judgeFunction(functionName)) : undefined;
    if (!bp || !warning) return false;
    bp.message = bp.message ? `${bp.message}\n${warning}` : warning;
    if (!warned) {
      warned = true;
      ctx.sendEvent(WARNING_EVENT, { message: `Breakpoint ${what}: ${warning}` });
      ctx.sendEvent('output', outputEvent('important', `bluepill-lens: breakpoint ${what}: ${warning}\n`).body);
    }
    return true;
  };

  return {
    name: 'breakpointSafety',
    stage: 'annotate',
    rewriteResponse(response, request) {
      if (!response.success || !request.command.startsWith('set') || !request.command.endsWith('Breakpoints')) return;
      const breakpoints = (response.body as { breakpoints?: DebugProtocol.Breakpoint[] } | undefined)?.breakpoints;
      if (!breakpoints) return;
      if (request.command === 'setFunctionBreakpoints') {
        const asked = (request.arguments as DebugProtocol.SetFunctionBreakpointsArguments).breakpoints;
        return asked.map((b, i) => judge(breakpoints[i], `on ${b.name}`, b.name)).some(Boolean);
      }
      if (request.command === 'setBreakpoints') {
        const args = request.arguments as DebugProtocol.SetBreakpointsArguments;
        const source = args.source.path ? readSource(args.source.path) : undefined;
        return breakpoints
          .map((bp, i) => {
            const line = bp.line ?? args.breakpoints?.[i]?.line;
            return source !== undefined && line !== undefined && judge(bp, `at ${path.basename(args.source.path!)}:${line}`, functionAtLine(source, line));
          })
          .some(Boolean);
      }
      if (request.command === 'setInstructionBreakpoints') {
        const asked = (request.arguments as DebugProtocol.SetInstructionBreakpointsArguments).breakpoints;
        return (async () => {
          let changed = false;
          for (const [i, bp] of breakpoints.entries()) {
            const address = bp.instructionReference ?? asked[i]?.instructionReference; // dlv does not echo it
            if (!address) continue;
            const symbol = session.symbolFor(BigInt(address)) ?? (await locationFunction(session, BigInt(address)));
            changed = judge(bp, `at ${address} (${symbol})`, symbol) || changed;
          }
          return changed;
        })();
      }
    },
  };
}

/** The function dlv places an address in, through the instruction's source file and line (the session's instruction cache). */
async function locationFunction(session: BluepillSession, address: bigint): Promise<string | undefined> {
  const instruction = await session.instructions.at(address);
  const source = instruction?.file ? readSource(instruction.file) : undefined;
  return source && instruction?.line ? functionAtLine(source, instruction.line) : undefined;
}

function readSource(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // a source we cannot read: no judgement
  }
}
