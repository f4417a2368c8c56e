// Coexistence with vscode-go: a session of a debug type that talks to dlv directly
// (the dlv-direct test extension, standing in for vscode-go's "go") is followed
// read-only through the debug adapter tracker.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BluepillApi } from '../../../extension/extension';
import { until } from './poll';

const EXTENSION_ID = 'bluepill-lens.bluepill-lens';

suite('a Go session without bluepill-lens in between (read-only tracker)', () => {
  test('the Bluepill State fills in at a stop in KVM_RUN, and Explain This PC explains the frame', async function () {
    this.timeout(120_000);
    const api = await vscode.extensions.getExtension<BluepillApi>(EXTENSION_ID)!.activate();
    assert.ok(vscode.extensions.getExtension('bluepill-lens-tests.dlv-direct'), 'the dlv-direct test extension is not installed (vscode.test.ts installs it before the suite)');
    const folder = vscode.workspace.workspaceFolders![0];
    const program = path.join(folder.uri.fsPath, 'bin', 'minibluepill');
    assert.ok(fs.existsSync(program), `${program} is missing: prepareDemo() builds it`);
    const dlvPath = vscode.workspace.getConfiguration('bluepill').get<string>('dlvPath');
    const settings = vscode.workspace.getConfiguration('bluepill');
    await settings.update('readOnlyDebugTypes', ['go', 'dlv-direct'], vscode.ConfigurationTarget.Global);
    const breakpoint = new vscode.FunctionBreakpoint('minibluepill/kvm.kvmRun');
    vscode.debug.addBreakpoints([breakpoint]);
    try {
      const started = await vscode.debug.startDebugging(folder, { type: 'dlv-direct', request: 'launch', name: 'Round trip through dlv alone', mode: 'exec', program, args: ['-forever'], dlvPath });
      assert.equal(started, true, 'the dlv-direct session did not start');
      const current = await until(() => {
        const c = api.current();
        return c?.state.stop?.phase === 'in-guest' ? c : undefined;
      }, 'the read-only tracker to report a stop in guest (KVM_RUN)', 90_000);
      assert.equal(current.sessionType, 'dlv-direct');
      assert.equal(current.readOnly, true);
      assert.match(current.state.stop!.symbol, /kvm\.kvmRun$/);
      assert.equal(current.state.variant?.arch, 'amd64');
      assert.ok(current.state.ucontext, 'the signal context was not read');
      assert.match(current.state.ucontext.mode, /ring 3/);

      await until(() => vscode.debug.activeStackItem instanceof vscode.DebugStackFrame || undefined, 'a focused stack frame');
      const explanation = await vscode.commands.executeCommand<{ where: string; origin: string; instruction?: string }>('bluepill.explainPc');
      assert.ok(explanation, 'Explain This PC gave nothing in the read-only session');
      assert.match(explanation.where, /kvm\.kvmRun/);
      assert.equal(explanation.origin, 'the debug session (dlv)');
      assert.ok(explanation.instruction, 'the instruction at the PC was not read from dlv');
    } finally {
      vscode.debug.removeBreakpoints([breakpoint]);
      await vscode.debug.stopDebugging();
      await settings.update('readOnlyDebugTypes', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
