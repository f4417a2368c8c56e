// Explain This Address in a real bluepill session of the amd64 minibluepill, launched by dlv on
// this machine: the command finds the debuggee (dlv's child) and explains addresses from its
// /proc and ELF, given as the Variables view gives a variable and as the state view's rows do;
// for a Go heap address it adds the span dlv reads.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { BluepillApi } from '../../../extension/extension';
import type { AddressAnswer } from '../../../extension/explainAddress';
import { until } from './poll';

const EXTENSION_ID = 'bluepill-lens.bluepill-lens';

suite('Explain This Address (bluepill session, amd64 minibluepill)', () => {
  test('the stop\'s PC as a variable is code in .text; the ucontext and its SP are named from the process\'s maps', async function () {
    this.timeout(180_000);
    const api = await vscode.extensions.getExtension<BluepillApi>(EXTENSION_ID)!.activate();
    const folder = vscode.workspace.workspaceFolders![0];
    const inKvmRun = new vscode.FunctionBreakpoint('minibluepill/kvm.kvmRun');
    vscode.debug.addBreakpoints([inKvmRun]);
    try {
      assert.equal(await vscode.debug.startDebugging(folder, 'Round trip: minibluepill (amd64)'), true, 'the session did not start');
      const stop = await until(() => (api.current()?.state.stop?.phase === 'in-guest' && api.current()?.state.ucontext ? api.current() : undefined), 'a stop in KVM_RUN with its ucontext', 120_000);
      const pc = stop.state.stop!.pc;

      const code = await vscode.commands.executeCommand<AddressAnswer>('bluepill.explainAddress', { variable: { name: 'pc', value: pc, memoryReference: pc } });
      assert.ok(code?.address, 'no answer from the process (was the debuggee found?)');
      assert.equal(code.address.kind, 'code', code.address.summary);
      assert.equal(code.address.section, '.text');
      assert.match(code.code!.where, /kvm\.kvmRun/);

      const u = stop.state.ucontext!;
      for (const value of [u.sp, u.address]) {
        const e = await vscode.commands.executeCommand<AddressAnswer>('bluepill.explainAddress', { command: { arguments: [value] } });
        assert.ok(e?.address?.mapping, `${value}: no mapping`);
        assert.ok(['thread-stack', 'main-stack', 'go-heap'].includes(e.address.kind), `${value}: ${e.address.kind}: ${e.address.summary}`);
        console.log(`Explain This Address ${value}: ${e.address.kind}: ${e.address.summary} | ${e.address.details.filter((d) => d.startsWith('dlv:')).join(' ')}`);
        // In the Go heap (anonymous memory: the minibluepill has no cgo), the stopped session's dlv reads the span: stacks are manual spans.
        if (e.address.mapping.path === '(anonymous)') assert.ok(e.address.details.some((d) => /^dlv: .*mSpanManual/.test(d)), `${value}: ${e.address.details.join('\n')}`);
        const [from] = e.address.mapping.range.split('-');
        const pid = Number(vscode.debug.activeDebugSession && /\d+/.exec(e.address.origin)![0]);
        assert.ok(fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').some((l) => l.startsWith(from.replace(/^0x/, '').padStart(8, '0'))), `${from} is a mapping of the debuggee`);
      }
    } finally {
      vscode.debug.removeBreakpoints([inKvmRun]);
      await vscode.debug.stopDebugging();
    }
  });
});
