// `npm run package` makes a .vsix holding the bundles, the manifest and the pages the
// extension shows, and none of the sources, tests or node_modules; vsce says nothing
// more than the files it packed. Then the path a user takes: install that .vsix into
// VS Code (code-server --install-extension) and debug the demo with it.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { repoRoot } from '../support/paths';
import { goToLine, installExtension, openFile, screenshot, startHost, tail, toggleBreakpoint, VSCODE_TEST_DIR, waitForText, waitVisible } from '../vscode/host';
import { DEMO_DIR, demoBreakpointLine, prepareDemo } from '../vscode/demo';

const VSIX = path.join(repoRoot, 'dist', 'bluepill-lens.vsix');

describe('npm run package', () => {
  it('makes a .vsix with the bundles and nothing else of the repository, without warnings', () => {
    const run = spawnSync('npm', ['run', 'package'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, `npm run package failed:\n${run.stdout}\n${run.stderr}`);
    assert.doesNotMatch(`${run.stdout}\n${run.stderr}`, /WARNING|ERROR/, 'vsce warned');
    const listing = execFileSync('unzip', ['-Z1', VSIX], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const needed of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/adapter.js', 'extension/media/icon.png', 'extension/changelog.md', 'extension/media/walkthrough/attach.md']) {
      assert.ok(listing.includes(needed), `${needed} in ${listing.join(', ')}`);
    }
    const leaked = listing.filter((f) => /node_modules|\.ts$|\/test\/|\/adapter\/|\/tools\/|\.map$|\.svg$/.test(f));
    assert.deepEqual(leaked, []);
    // The packaged CLI runs on its own.
    const help = execFileSync('node', [path.join(repoRoot, 'dist', 'cli.js'), 'help'], { encoding: 'utf8' });
    assert.match(help, /bluepill-lens <command>/);
  });

  it('installs with --install-extension, and F5 on the demo stops at its breakpoint', { timeout: 240_000 }, async () => {
    execFileSync('bash', [path.join(repoRoot, 'scripts', 'setup-vscode.sh')], { stdio: ['ignore', 2, 2] });
    if (!fs.existsSync(VSIX)) execFileSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: 'ignore' });
    prepareDemo();
    const extensionsDir = path.join(VSCODE_TEST_DIR, 'runs', 'vsix-extensions');
    fs.rmSync(extensionsDir, { recursive: true, force: true });
    fs.mkdirSync(extensionsDir, { recursive: true }); // code-server does not create its parents (a fresh clone has no runs/)
    const out = installExtension(VSIX, extensionsDir);
    assert.match(out, /bluepill-lens.*successfully installed/i);

    const host = await startHost({ workspace: DEMO_DIR, label: 'vsix', extensionDevelopmentPath: null, extensionsDir });
    try {
      const { page } = host;
      await waitForText(page, '.explorer-folders-view .monaco-list-row', 'main.go');
      const line = demoBreakpointLine();
      await openFile(page, 'main.go');
      await goToLine(page, line);
      await toggleBreakpoint(page);
      await page.keyboard.press('F5');
      await waitVisible(page.locator(`.debug-call-stack .monaco-list-row[aria-label="Stack Frame main.compute, line ${line}, main.go"]`), 'main.compute stopped at the breakpoint, in CALL STACK', 60_000);
      // The installed extension, not a development copy, served it: its status bar item shows the phase.
      await waitVisible(page.locator('.statusbar-item').filter({ hasText: /Bluepill:\s+host/ }), 'the Bluepill phase in the status bar');
      await page.keyboard.press('Shift+F5');
      await page.locator('.debug-call-stack .monaco-list-row').first().waitFor({ state: 'detached', timeout: 20_000 });
    } catch (err) {
      const shot = path.join(VSCODE_TEST_DIR, 'failures', 'vsix.png');
      await screenshot(host.page, shot).catch(() => undefined);
      if (err instanceof Error) err.message += `\n(screenshot: ${shot})\n${tail(host.logs)}`;
      throw err;
    } finally {
      await host.close();
    }
  });
});
