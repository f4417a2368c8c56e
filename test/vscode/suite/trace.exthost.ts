// bluepill.trace: a session writes its DAP messages, both sides of the proxy, to a
// JSON-lines file that "Bluepill: Open DAP Trace" opens; `env` values never reach it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { until } from './poll';

suite('DAP trace (bluepill.trace)', () => {
  test('a session with a secret in env writes a trace without it, and Open DAP Trace opens it', async function () {
    this.timeout(90_000);
    const folder = vscode.workspace.workspaceFolders![0];
    const settings = vscode.workspace.getConfiguration('bluepill');
    await settings.update('trace', true, vscode.ConfigurationTarget.Global);
    const secret = `s3cret-${process.pid}-token`;
    const stopped = new Promise<void>((resolve) => {
      const sub = vscode.debug.registerDebugAdapterTrackerFactory('bluepill', {
        createDebugAdapterTracker: () => ({
          onDidSendMessage: (m: { type: string; event?: string }) => {
            if (m.type === 'event' && m.event === 'stopped') { sub.dispose(); resolve(); }
          },
        }),
      });
    });
    try {
      const started = await vscode.debug.startDebugging(folder, {
        type: 'bluepill', request: 'launch', name: 'traced demo', mode: 'exec',
        program: path.join(folder.uri.fsPath, 'bin', 'demo'), stopOnEntry: true, env: { API_TOKEN: secret },
      });
      assert.equal(started, true);
      await stopped;
      await vscode.debug.stopDebugging();
      const file = await vscode.commands.executeCommand<string>('bluepill.openTrace');
      assert.ok(file && fs.existsSync(file), `Open DAP Trace returned ${file}`);
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file, 'the trace is not the active editor');
      const text = await until(() => {
        const t = fs.readFileSync(file, 'utf8');
        return /"command":"disconnect"/.test(t) ? t : undefined;
      }, 'the disconnect request in the trace');
      assert.equal(text.includes(secret), false, 'the env value reached the trace file');
      assert.equal(text.includes('API_TOKEN'), false, 'the env variable name reached the trace file');
      const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { time: string; direction: string; message: { type: string; command?: string; arguments?: { env?: unknown } } });
      assert.deepEqual([...new Set(lines.map((l) => l.direction))].sort(), ['client→proxy', 'dlv→proxy', 'proxy→client', 'proxy→dlv']);
      assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.time))), 'every line has an ISO time');
      const launch = lines.find((l) => l.direction === 'client→proxy' && l.message.command === 'launch');
      assert.equal(launch?.message.arguments?.env, '[redacted: 1 variables]');
      assert.equal(fs.statSync(file).mode & 0o077, 0, 'the trace is readable by others');
    } finally {
      await settings.update('trace', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
