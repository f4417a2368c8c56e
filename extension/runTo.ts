// The commands Run to Next Phase, Run to Guest Exit and Run to Resume Point: they carry out
// the plan of adapter/bluepill/runTo.ts in the active bluepill session. A breakpoint of
// ours is a function breakpoint in host-only code, added for one leg and removed at the
// next stop, whatever stopped the thread, or when the session ends; a breakpoint the user
// already has there is used as it is and never removed.
import * as vscode from 'vscode';
import { phaseTitle, planRunTo, type Leg, type RunToGoal } from '../adapter/bluepill/runTo';
import { variantById, type Phase } from '../adapter/bluepill/model';
import type { BluepillState } from '../adapter/bluepill/state';
import { shortName } from '../adapter/bluepill/symbols';
import type { BluepillStates } from './bluepillStates';
import { DEBUG_TYPE } from './debugType';

export const RUN_TO_COMMANDS: Record<RunToGoal, string> = {
  'next-phase': 'bluepill.runToNextPhase',
  'guest-exit': 'bluepill.runToGuestExit',
  'resume-point': 'bluepill.runToResumePoint',
};

/** What a command did, for the message shown and for tests. */
export interface RunToResult {
  /** Where the thread stopped (undefined: nothing was run, or the session ended). */
  reached?: Phase;
  /** The goal was reached. */
  done: boolean;
  words: string;
}

const VERIFY_MS = 15_000;

export function registerRunToCommands(states: BluepillStates): vscode.Disposable {
  const replies = new FunctionBreakpointReplies();
  return vscode.Disposable.from(
    vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, replies),
    ...(Object.keys(RUN_TO_COMMANDS) as RunToGoal[]).map((goal) =>
      vscode.commands.registerCommand(RUN_TO_COMMANDS[goal], async (): Promise<RunToResult> => {
        const result = await runTo(states, replies, goal).catch((e: Error): RunToResult => ({ done: false, words: `bluepill-lens: ${e.message}` }));
        void (result.done ? vscode.window.showInformationMessage(result.words) : vscode.window.showWarningMessage(result.words));
        return result;
      }),
    ),
  );
}

type DapBreakpoint = { verified?: boolean; message?: string };

/**
 * dlv's answer for each function breakpoint VS Code sends, seen on the wire: the continue must
 * wait until dlv has ours (getDebugProtocolBreakpoint gave nothing for 15 s in code-server 1.100).
 */
class FunctionBreakpointReplies implements vscode.DebugAdapterTrackerFactory {
  private readonly listeners = new Set<(sessionId: string, name: string, reply: DapBreakpoint) => void>();

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    const asked = new Map<number, string[]>();
    return {
      onWillReceiveMessage: (m: { type?: string; seq?: number; command?: string; arguments?: { breakpoints?: { name: string }[] } }) => {
        if (m.type === 'request' && m.command === 'setFunctionBreakpoints' && m.seq !== undefined) asked.set(m.seq, (m.arguments?.breakpoints ?? []).map((b) => b.name));
      },
      onDidSendMessage: (m: { type?: string; request_seq?: number; success?: boolean; message?: string; body?: { breakpoints?: DapBreakpoint[] } }) => {
        const names = m.type === 'response' && m.request_seq !== undefined ? asked.get(m.request_seq) : undefined;
        if (!names) return;
        asked.delete(m.request_seq!);
        names.forEach((name, i) => {
          const reply = m.success ? (m.body?.breakpoints?.[i] ?? { verified: false, message: 'no answer for it' }) : { verified: false, message: m.message };
          for (const listener of this.listeners) listener(session.id, name, reply);
        });
      },
    };
  }

  /** The next answer about `name` in this session; call before the breakpoint is added. */
  next(session: vscode.DebugSession, name: string): Promise<DapBreakpoint> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`the breakpoint in ${name} was not confirmed by the debug adapter within ${VERIFY_MS / 1000} s.`));
      }, VERIFY_MS);
      const listener = (sessionId: string, asked: string, reply: DapBreakpoint) => {
        if (sessionId !== session.id || asked !== name) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(reply);
      };
      this.listeners.add(listener);
    });
  }
}

async function runTo(states: BluepillStates, replies: FunctionBreakpointReplies, goal: RunToGoal): Promise<RunToResult> {
  const session = vscode.debug.activeDebugSession;
  if (!session || session.type !== DEBUG_TYPE) return { done: false, words: 'Run to: start or focus a debug session of type "bluepill" first (Go sessions followed read-only cannot be driven).' };
  const state = states.of(session);
  if (!state?.stop || state.running) return { done: false, words: 'Run to: the session must be stopped (pause it, or wait for a breakpoint).' };
  if (!state.variant) return { done: false, words: 'Run to: the round-trip variant is not known yet; set bluepill.variant or the configuration\'s bluepillVariant.' };
  const plan = planRunTo(goal, variantById(state.variant.id), state.stop.phase);
  if (!plan.legs.length) return { done: false, words: plan.words };
  let stop = state.stop;
  let steps = 0;
  for (const leg of plan.legs) {
    const after = leg.kind === 'break' ? await breakAndContinue(states, replies, session, leg.functionName, stop) : await stepThrough(states, session, leg, stop);
    const reached = after.stop;
    steps += after.steps;
    if (!reached) return { done: false, words: `Run to: the session ended before "${phaseTitle(leg.reaches)}". ${plan.words}` };
    stop = reached;
    if (stop.phase !== leg.reaches) {
      const why = leg.kind === 'break' ? 'something else stopped the thread first'
        : stop.phase === leg.from ? `${after.steps} single steps did not leave "${phaseTitle(leg.from)}" (run the command again to go on)`
        : 'the single steps went elsewhere';
      return { reached: stop.phase, done: false, words: `Run to: stopped in "${stop.phaseTitle}" at ${stop.symbol} (${stop.pc}) before "${phaseTitle(leg.reaches)}": ${why}. ${plan.words}` };
    }
  }
  const stepped = steps ? ` after ${steps} single step${steps === 1 ? '' : 's'}` : '';
  return { reached: stop.phase, done: true, words: `Bluepill: now at "${stop.phaseTitle}" in ${stop.symbol} (${stop.pc})${stepped}. ${plan.words}` };
}

type Stop = NonNullable<BluepillState['stop']>;

/** The first stop after `after` (the state the proxy sends for it), or undefined when the session ends first. */
function nextStop(states: BluepillStates, session: vscode.DebugSession, after: Stop): Promise<Stop | undefined> {
  return new Promise((resolve) => {
    const done = (stop: Stop | undefined) => {
      subs.forEach((s) => s.dispose());
      resolve(stop);
    };
    const subs = [
      states.onDidChange(() => {
        const s = states.of(session);
        if (s?.stop && !s.running && s.stop.index > after.index) done(s.stop);
        else if (!s || s.ended) done(undefined);
      }),
      vscode.debug.onDidTerminateDebugSession((ended) => ended.id === session.id && done(undefined)),
    ];
  });
}

function usersBreakpointAt(functionName: string): vscode.FunctionBreakpoint | undefined {
  const name = shortName(functionName);
  return vscode.debug.breakpoints.find((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint && shortName(b.functionName) === name);
}

/** Where a leg ended (undefined: the session ended), and how many single steps it took. */
type LegEnd = { stop: Stop | undefined; steps: number };

async function breakAndContinue(states: BluepillStates, replies: FunctionBreakpointReplies, session: vscode.DebugSession, functionName: string, from: Stop): Promise<LegEnd> {
  const users = usersBreakpointAt(functionName);
  // A second breakpoint on the same function would be refused by dlv, and enabling theirs is not ours to do.
  if (users && !users.enabled) throw new Error(`you have a disabled breakpoint on ${users.functionName}: enable it (it is then used and kept) or remove it, and run again.`);
  const ours = users ? undefined : new vscode.FunctionBreakpoint(functionName);
  try {
    if (ours) {
      // dlv must have it before the continue, or the thread could run past it.
      const answer = replies.next(session, functionName);
      vscode.debug.addBreakpoints([ours]);
      const reply = await answer;
      if (!reply.verified) throw new Error(`dlv did not set the breakpoint in ${functionName}: ${reply.message ?? 'no reason given'}. Is this a gVisor (or minibluepill) binary with symbols?`);
    }
    const stopped = nextStop(states, session, from);
    await session.customRequest('continue', { threadId: from.threadId });
    return { stop: await stopped, steps: 0 };
  } finally {
    if (ours) vscode.debug.removeBreakpoints([ours]);
  }
}

/** Single steps (dlv's step-instruction: no breakpoint) until the phase is no longer leg.from. */
async function stepThrough(states: BluepillStates, session: vscode.DebugSession, leg: Extract<Leg, { kind: 'step' }>, from: Stop): Promise<LegEnd> {
  const title = `Bluepill: single-stepping to "${phaseTitle(leg.reaches)}"`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    let stop: Stop | undefined = from;
    let steps = 0;
    while (steps < leg.budget && stop && stop.phase === leg.from && !token.isCancellationRequested) {
      if (++steps % 20 === 0) progress.report({ message: `${steps} instructions` });
      const stopped = nextStop(states, session, stop);
      await session.customRequest('stepIn', { threadId: stop.threadId, granularity: 'instruction' });
      stop = await stopped;
    }
    return { stop, steps };
  });
}
