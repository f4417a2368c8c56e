// Runs inside the real VS Code extension host (see index.ts).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'bluepill-lens.bluepill-lens';

suite('bluepill-lens in VS Code', () => {
  test('the extension is installed and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  test('the command bluepill.pickSandboxProcess is registered', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('bluepill.pickSandboxProcess'),
      'bluepill.pickSandboxProcess is missing from vscode.commands.getCommands(true)');
  });

  test('the bluepill debug type is contributed', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    const debuggers: { type: string }[] = ext?.packageJSON?.contributes?.debuggers ?? [];
    assert.ok(debuggers.some((d) => d.type === 'bluepill'), 'package.json contributes no "bluepill" debugger');
  });
});
