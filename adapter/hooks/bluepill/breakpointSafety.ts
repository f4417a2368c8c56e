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
import { parseHexAddress } from '../../explain/hexAddress';
import type { BluepillSession } from './session';

export function breakpointSafety(session: BluepillSession): ProxyHook {
  const { ctx } = session;
  let warned = false;
  /** Marks the breakpoint when its function runs in guest mode (true if it did); the first one also notifies. */
  const judge = (bp: DebugProtocol.Breakpoint | undefined, what: string, functionName: string | undefined): boolean => {
    // A breakpoint dlv did not set is no breakpoint to warn about.
    const warning = bp && bp.verified !== false && functionName ? guestBreakpointWarning(judgeFunction(functionName)) : undefined;
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
        // By the name asked for; a "file:line" name (an assembly line), by where dlv set it.
        return asked.map((b, i) => judge(breakpoints[i], `on ${b.name}`, judgeFunction(b.name) ? b.name : setAt(breakpoints[i]))).some(Boolean);
      }
      if (request.command === 'setBreakpoints') {
        const args = request.arguments as DebugProtocol.SetBreakpointsArguments;
        return breakpoints
          .map((bp, i) => {
            const line = bp.line ?? args.breakpoints?.[i]?.line;
            return args.source.path !== undefined && line !== undefined && judge(bp, `at ${path.basename(args.source.path)}:${line}`, functionAtSourceLine(args.source.path, line));
          })
          .some(Boolean);
      }
      if (request.command === 'setInstructionBreakpoints') {
        const asked = (request.arguments as DebugProtocol.SetInstructionBreakpointsArguments).breakpoints;
        return (async () => {
          let changed = false;
          for (const [i, bp] of breakpoints.entries()) {
            const reference = bp.instructionReference ?? asked[i]?.instructionReference; // dlv does not echo it
            // One that is no address (dlv refuses it) leaves the others judged.
            const address = parseHexAddress(reference);
            if (address === undefined) continue;
            const symbol = session.symbolFor(address) ?? (await locationFunction(session, address));
            changed = judge(bp, `at ${reference} (${symbol})`, symbol) || changed;
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
  return instruction?.file && instruction.line ? functionAtSourceLine(instruction.file, instruction.line) : undefined;
}

/** Where dlv set a breakpoint, as a function: its source file and line. */
function setAt(bp: DebugProtocol.Breakpoint | undefined): string | undefined {
  return bp?.source?.path && bp.line ? functionAtSourceLine(bp.source.path, bp.line) : undefined;
}

/** The function at a line of a Go or assembly source file (an assembly file takes its package from a .go file beside it). */
function functionAtSourceLine(file: string, line: number): string | undefined {
  const source = readSource(file);
  if (source === undefined) return undefined;
  return functionAtLine(source, line, file.endsWith('.s') ? packageOfFolder(path.dirname(file)) : undefined);
}

function packageOfFolder(dir: string): string | undefined {
  try {
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.go') || name.endsWith('_test.go')) continue;
      const pkg = /^package\s+(\w+)/m.exec(readSource(path.join(dir, name)) ?? '')?.[1];
      if (pkg) return pkg;
    }
  } catch {
    // an unreadable folder: no package, no judgement
  }
  return undefined;
}

function readSource(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // a source we cannot read: no judgement
  }
}
