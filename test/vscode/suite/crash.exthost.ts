// Decode Crash Report in the real VS Code, on the demo's crash report: what minibluepill built
// for ARM64 wrote under qemu-user when it died the way gVisor's dieAndDumpExitReason makes a
// vCPU die (demo/bin/minibluepill-arm64.crash.txt, made by prepareDemo).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { until } from './poll';

const demoBin = () => path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'bin');

suite('Decode Crash Report', () => {
  test('the demo\'s crash report: the vCPU died of KVM_EXIT_INTERNAL_ERROR at kvm.bluepill, in the Explain panel', async () => {
    const doc = await vscode.workspace.openTextDocument(path.join(demoBin(), 'minibluepill-arm64.crash.txt'));
    await vscode.window.showTextDocument(doc);
    const decoded = await vscode.commands.executeCommand<{ findings: Array<{ severity: string; message: string }>; report: { arch?: string } } | undefined>('bluepill.decodeCrashReport', { binary: path.join(demoBin(), 'minibluepill-arm64') });
    assert.ok(decoded, 'decoded');
    assert.equal(decoded.report.arch, 'arm64');
    assert.equal(decoded.findings.length, 1);
    assert.match(decoded.findings[0].message, /^vCPU died: exit reason KVM_EXIT_INTERNAL_ERROR \(17\), data 0xd1e0 0xd1e1 0xd1e2 0xd1e3, at PC 0x[0-9a-f]+ \(minibluepill\/kvm\.bluepill\.abi0\)/);
    const labels = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).filter((l) => l.startsWith('Explain'));
    await until(() => labels().includes('Explain crash report') || undefined, 'the Explain panel titled "Explain crash report"');
  });
});
