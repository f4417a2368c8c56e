// The manifest's launch schema is generated from adapter/config/launchAttributes.ts;
// this fails when one is edited without the other (run `npm run build`).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attachAttributes, launchAttributes } from '../../adapter/config/launchAttributes';
import { repoRoot } from '../support/paths';

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const debuggerEntry = manifest.contributes.debuggers[0];

describe('package.json', () => {
  it('declares workspace trust: limited, with the setting that names a program restricted', () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, ['bluepill.dlvPath']);
    assert.match(manifest.capabilities.untrustedWorkspaces.description, /starting dlv is refused until the workspace is trusted/);
  });

  it('contributes the bluepill debug type with a schema for every attribute', () => {
    assert.equal(debuggerEntry.type, 'bluepill');
    assert.deepEqual(Object.keys(debuggerEntry.configurationAttributes.launch.properties).sort(), Object.keys(launchAttributes).sort());
    assert.deepEqual(Object.keys(debuggerEntry.configurationAttributes.attach.properties).sort(), Object.keys(attachAttributes).sort());
    assert.deepEqual(debuggerEntry.configurationAttributes.attach.properties.processId.type, ['number', 'string']);
  });

  it('offers the five snippets (one waits for the next sandbox), and showRegisters is on by default', () => {
    const labels = debuggerEntry.configurationSnippets.map((s: { label: string }) => s.label);
    const waiting = debuggerEntry.configurationSnippets.find((s: { label: string }) => s.label.endsWith('Attach to the next runsc sandbox'));
    assert.equal(waiting?.body.waitFor, 'runsc-sandbox');
    for (const name of ['Attach to runsc sandbox', 'Attach to the next runsc sandbox', 'Connect to remote dlv', 'Open core file', 'Launch Go program']) {
      assert.ok(labels.some((l: string) => l.endsWith(name)), `snippet ${name}`);
    }
    assert.equal(debuggerEntry.configurationAttributes.launch.properties.showRegisters.default, true);
    assert.ok(debuggerEntry.initialConfigurations.length > 0);
  });

  it('admits the VS Code the tests run in (1.100) and registers the picker command', () => {
    assert.match(manifest.engines.vscode, /^\^1\.(\d+)\./);
    assert.ok(Number(/^\^1\.(\d+)/.exec(manifest.engines.vscode)![1]) <= 100);
    assert.ok(manifest.contributes.commands.some((c: { command: string }) => c.command === 'bluepill.pickSandboxProcess'));
  });
});
