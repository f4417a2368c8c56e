// Run to Guest Exit / Resume Point / Next Phase in a real bluepill session of the amd64
// minibluepill: the breakpoints they add are host-only, gone after the stop, and the
// user's own breakpoints are left as they were.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BluepillApi } from '../../../extension/extension';
import type { RunToResult } from '../../../extension/runTo';
import { until } from './poll';

const EXTENSION_ID = 'bluepill-lens.bluepill-lens';

function functionBreakpoints(): string[] {
  return vscode.debug.breakpoints.filter((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint).map((b) => b.functionName).sort();
}

suite('Run to Next Phase / Guest Exit / Resume Point (bluepill session, amd64 minibluepill)', () => {
  test('from a stop in KVM_RUN: to the guest exit, to the resume point, stopped early by a breakpoint of the user, then phase by phase round a whole trip', async function () {
    this.timeout(300_000);
    const api = await vscode.extensions.getExtension<BluepillApi>(EXTENSION_ID)!.activate();
    const folder = vscode.workspace.workspaceFolders![0];
    const inKvmRun = new vscode.FunctionBreakpoint('minibluepill/kvm.kvmRun');
    const usersGuestExit = new vscode.FunctionBreakpoint('minibluepill/kvm.bluepillGuestExit');
    const disabledGuestExit = new vscode.FunctionBreakpoint('minibluepill/kvm.bluepillGuestExit', false);
    vscode.debug.addBreakpoints([inKvmRun]);
    const run = async (command: string) => {
      const result = await vscode.commands.executeCommand<RunToResult>(command);
      assert.ok(result, `${command} returned nothing`);
      return result;
    };
    try {
      assert.equal(await vscode.debug.startDebugging(folder, 'Round trip: minibluepill (amd64)'), true, 'the round-trip session did not start');
      const first = await until(() => api.current()?.state.stop?.phase === 'in-guest' ? api.current() : undefined, 'a stop in guest (KVM_RUN)', 120_000);
      assert.equal(first.sessionType, 'bluepill');
      assert.match(first.state.stop!.symbol, /kvm\.kvmRun$/);
      assert.equal(first.state.variant?.id, 'amd64-cli');

      const exit = await run('bluepill.runToGuestExit');
      assert.equal(exit.reached, 'guest-exit', exit.words);
      assert.equal(exit.done, true, exit.words);
      assert.match(api.current()!.state.stop!.symbol, /kvm\.bluepillGuestExit$/);
      assert.deepEqual(functionBreakpoints(), ['minibluepill/kvm.kvmRun'], 'Run to Guest Exit left its breakpoint behind, or touched the user\'s');
      assert.ok(vscode.debug.breakpoints.includes(inKvmRun) && inKvmRun.enabled, 'the user\'s breakpoint was replaced or disabled');

      const resume = await run('bluepill.runToResumePoint');
      assert.equal(resume.reached, 'resumed', resume.words);
      console.log(`Run to Resume Point: ${resume.words}`);
      assert.match(api.current()!.state.stop!.symbol, /kvm\.(bluepill|hostSyscall)$/, 'the resume point is not where bluepillGuestExit sends the host');
      assert.deepEqual(functionBreakpoints(), ['minibluepill/kvm.kvmRun']);

      // Whatever stops the thread first ends the run, and our breakpoint goes: here the user's in KVM_RUN.
      const early = await run('bluepill.runToGuestExit');
      assert.equal(early.done, false, early.words);
      assert.equal(early.reached, 'in-guest', early.words);
      assert.match(api.current()!.state.stop!.symbol, /kvm\.kvmRun$/);
      assert.match(early.words, /before "guest exit": something else stopped the thread first/);
      assert.deepEqual(functionBreakpoints(), ['minibluepill/kvm.kvmRun']);

      // A disabled breakpoint of the user's on the target is neither enabled nor doubled: the command says what to do.
      vscode.debug.addBreakpoints([disabledGuestExit]);
      const refused = await run('bluepill.runToGuestExit');
      assert.equal(refused.done, false);
      assert.match(refused.words, /disabled breakpoint on minibluepill\/kvm\.bluepillGuestExit: enable it/);
      assert.equal(api.current()!.state.stop!.phase, 'in-guest', 'the thread moved although the command refused');
      assert.deepEqual(functionBreakpoints(), ['minibluepill/kvm.bluepillGuestExit', 'minibluepill/kvm.kvmRun']);
      assert.equal(disabledGuestExit.enabled, false);
      vscode.debug.removeBreakpoints([disabledGuestExit]);

      // The user swaps their breakpoint in KVM_RUN for one in the guest exit: Run to Next Phase uses it and leaves it.
      vscode.debug.removeBreakpoints([inKvmRun]);
      vscode.debug.addBreakpoints([usersGuestExit]);
      const phases: string[] = [];
      const words: string[] = [];
      for (const expected of ['guest-exit', 'sigreturn', 'resumed', 'host', 'in-guest']) {
        const step = await run('bluepill.runToNextPhase');
        phases.push(step.reached ?? '(none)');
        words.push(step.words);
        console.log(`Run to Next Phase: ${step.words}`);
        assert.equal(step.reached, expected, `Run to Next Phase: ${phases.join(' → ')}\n${words.join('\n')}`);
        assert.equal(step.done, true, step.words);
        assert.equal(api.current()!.state.stop!.phase, expected);
      }
      // From the host, "entering" (kvm.bluepill runs in guest mode too) and "trapped" (no amd64 kvm.sighandler in the table) are skipped, and said so.
      assert.match(words[4], /Skipped: "entering".*Skipped: "trapped"/s);
      assert.match(api.current()!.state.stop!.symbol, /kvm\.bluepillHandler$/);
      assert.deepEqual(functionBreakpoints(), ['minibluepill/kvm.bluepillGuestExit'], 'the user\'s breakpoint in the guest exit was removed, or ours was left');
      assert.ok(usersGuestExit.enabled);
    } finally {
      vscode.debug.removeBreakpoints([inKvmRun, usersGuestExit, disabledGuestExit]);
      await vscode.debug.stopDebugging();
    }
  });
});
