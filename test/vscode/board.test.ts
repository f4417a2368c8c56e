// The emulated ARM64 board in a real VS Code: the `bluepill` remote configuration a user
// writes for their own board, pointed at the board's dlv; at a stop inside the round
// trip the Bluepill State view fills in. Its screenshot is the README's ARM64 picture.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { REPO_ROOT, addFunctionBreakpoint, openBluepillStateView, pressF5, screenshot, waitForText, waitVisible, withHost } from './host';
import { boardUnavailable, startBoard } from '../support/board';

const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');

describe('the emulated ARM64 board in VS Code', () => {
  test('a stop in kvm.kvmRun on the board: the Bluepill State view shows the ARM64 round trip', { timeout: 40 * 60_000 }, async (t) => {
    const unavailable = boardUnavailable();
    if (unavailable) {
      console.log(`skipped: ${unavailable}`);
      t.skip(unavailable);
      return;
    }
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-vscode.sh')], { stdio: ['ignore', 2, 2] });
    const board = await startBoard('minibluepill');
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-board-ws-'));
    try {
      fs.mkdirSync(path.join(workspace, '.vscode'));
      const config = { type: 'bluepill', request: 'attach', name: 'ARM64 board: minibluepill', mode: 'remote', host: '127.0.0.1', port: board.port };
      fs.writeFileSync(path.join(workspace, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations: [config] }, null, 2));
      await withHost({ workspace, label: 'arm64-board' }, async ({ page }) => {
        await addFunctionBreakpoint(page, 'minibluepill/kvm.kvmRun');
        await pressF5(page); // the workspace's one configuration, as a user starts it from Run and Debug
        // An emulated board: dlv there is ~100× slower than on the host.
        await waitVisible(page.locator('.debug-call-stack .monaco-list-row[aria-label^="Stack Frame kvm.kvmRun"]'), 'kvm.kvmRun in CALL STACK', 180_000);
        await openBluepillStateView(page);
        await waitForText(page, '.part.panel .monaco-list-row', /Phase\s*in\s+guest\s+\(KVM_RUN\)/, 120_000);
        // The interrupted context is ARM64's: EL0t (host user mode), read from the ucontext's PSTATE.
        await waitForText(page, '.part.panel .monaco-list-row', /Interrupted\s*EL0t/, 120_000);
        await screenshot(page, path.join(SCREENSHOTS, 'arm64-board.png'));
        await page.keyboard.press('Shift+F5');
      });
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true });
      await board.stop();
    }
  });
});
