// The walkthrough's contribution and the commands behind its buttons, in the real
// extension host (the UI test clicks the buttons).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'bluepill-lens.bluepill-lens';

interface Step { id: string; title: string; description: string; media: { markdown?: string } }

suite('walkthrough "Debug gVisor\'s KVM platform"', () => {
  test('has the six steps, each with a button whose command is registered', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    const walkthrough = ext.packageJSON.contributes.walkthroughs[0] as { title: string; steps: Step[] };
    assert.equal(walkthrough.title, "Debug gVisor's KVM platform");
    assert.deepEqual(walkthrough.steps.map((s) => s.id), ['dlv', 'build', 'docker', 'attach', 'state', 'explain']);
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const step of walkthrough.steps) {
      const button = /\n\[[^\]]+\]\(command:([\w.]+)\)$/.exec(step.description);
      assert.ok(button, `step "${step.title}" has no button (a last line of the form [Label](command:id))`);
      assert.ok(commands.has(button[1]), `step "${step.title}": command ${button[1]} is not registered`);
      const media = vscode.Uri.joinPath(ext.extensionUri, step.media.markdown!);
      await vscode.workspace.fs.stat(media); // throws if the page is missing
    }
  });

  test('Locate dlv names the dlv sessions will use, with its version', async () => {
    const found = await vscode.commands.executeCommand<{ path?: string; version?: string; error?: string }>('bluepill.locateDlv');
    const configured = vscode.workspace.getConfiguration('bluepill').get<string>('dlvPath');
    assert.equal(found.error, undefined);
    assert.equal(found.path, configured);
    assert.match(found.version ?? '', /^1\.27\.2$/);
  });

  test('Locate dlv with a wrong bluepill.dlvPath says what to do', async () => {
    const settings = vscode.workspace.getConfiguration('bluepill');
    // The demo's settings.json (written per clone by prepareDemo) holds the pinned dlv: put it back after.
    const pinned = settings.inspect<string>('dlvPath')?.workspaceValue;
    await settings.update('dlvPath', '/nonexistent/dlv', vscode.ConfigurationTarget.Workspace);
    try {
      const found = await vscode.commands.executeCommand<{ error?: string }>('bluepill.locateDlv');
      assert.match(found.error ?? '', /dlv was not found at "\/nonexistent\/dlv".*go install github\.com\/go-delve\/delve\/cmd\/dlv/);
    } finally {
      await settings.update('dlvPath', pinned, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('Configure Docker\'s runsc Runtime opens the daemon.json with --platform=kvm', async () => {
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('bluepill.configureDockerRuntime');
    const text = doc.getText();
    const json = JSON.parse(text.replace(/^\/\/.*$/gm, '')) as { runtimes: { runsc: { runtimeArgs: string[] } } };
    assert.ok(json.runtimes.runsc.runtimeArgs.includes('--platform=kvm'));
    assert.match(text, /systemctl reload docker/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('Build runsc with Symbols types the build line in a terminal, without running it', async () => {
    const line = await vscode.commands.executeCommand<string>('bluepill.buildRunsc');
    assert.match(line, /go build -o bin\/runsc \.\/runsc/);
    assert.doesNotMatch(line, /-s -w/);
    const terminal = vscode.window.terminals.find((t) => t.name === 'Build runsc with symbols');
    assert.ok(terminal, 'no "Build runsc with symbols" terminal');
    terminal.dispose();
  });
});
