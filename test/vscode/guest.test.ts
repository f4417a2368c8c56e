// The guest of a real, hanging runsc in a real VS Code: a `bluepill` attach to the sandbox
// (`runsc --platform=kvm do /bin/true`, amd64, which never returns here) fills the Bluepill
// State view's Guest section while the sandbox runs, with no stop, and the Guest Timeline
// draws its vCPU lane. Its screenshot is the README's picture of the hang. Then paused, the
// vCPU goroutine's CALL STACK starts with its guest's last PC (guest-frame.png).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { REPO_ROOT, foldSections, openBluepillStateView, pressF5, runCommand, screenshot, stateViewRows, waitForText, waitVisible, webviewWith, withHost } from './host';
import { PINNED_DLV } from './demo';
import { guestTraceUnavailable, startRunscHang } from '../support/runscHang';

const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');

describe('the guest of a hanging runsc in VS Code', () => {
  test('attached to the sandbox, the Guest section and the Guest Timeline show where its vCPU spins, by runsc symbols', { timeout: 420_000 }, async (t) => {
    const unavailable = guestTraceUnavailable();
    if (unavailable) {
      console.log(`skipped: ${unavailable}`);
      t.skip(unavailable);
      return;
    }
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-vscode.sh')], { stdio: ['ignore', 2, 2] });
    const hang = await startRunscHang();
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-guest-ws-'));
    try {
      assert.ok(hang.sandboxPid, 'a runsc-sandbox process appeared');
      fs.mkdirSync(path.join(workspace, '.vscode'));
      const config = { type: 'bluepill', request: 'attach', name: 'Attach to the hanging sandbox', mode: 'local', processId: hang.sandboxPid, dlvPath: PINNED_DLV };
      fs.writeFileSync(path.join(workspace, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations: [config] }, null, 2));
      await withHost({ workspace, label: 'guest-hang' }, async ({ page }) => {
        // F5 in Run and Debug starts the workspace's one configuration, as a user does.
        await page.keyboard.press('Control+Shift+D');
        await waitVisible(page.locator('.debug-viewlet, .pane-header').first(), 'the Run and Debug sidebar');
        // VS Code takes F5 only once a debugger's extension is active (at startup here, on a loaded
        // machine it can take a while): press it until the debug toolbar shows the session.
        const toolbar = page.locator('.debug-toolbar');
        for (let i = 0; i < 24 && !(await toolbar.isVisible()); i++) {
          await pressF5(page);
          await toolbar.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
        }
        await waitVisible(toolbar, 'the debug toolbar of the attach session', 10_000);
        // No stop: the sandbox runs, and the view fills in from the guest watch alone.
        // VS Code opens the Debug Console as the session starts: show the view after it, or it is covered again.
        await page.locator('.part.panel .composite.title').filter({ hasText: /Debug Console/i }).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined);
        for (let attempt = 1; ; attempt++) {
          try {
            await openBluepillStateView(page, true);
            break;
          } catch (e) {
            if (attempt === 3) throw e;
          }
        }
        await waitForText(page, '.part.panel .monaco-list-row', /Guest\s*\d+\s+vCPU\s+threads?\s+·\s+\d+\s+events\/s/, 60_000);
        await runCommand(page, 'View: Toggle Maximized Panel'); // room for every row of the Guest section
        const rows = await stateViewRows(page).allInnerTexts();
        const said = rows.join('\n');
        if (fs.existsSync('/sys/module/kvm_pvm')) {
          // What this machine's KVM does with gVisor's guest (see the README): ring0's exception path, round and round.
          await waitForText(page, '.part.panel .monaco-list-row', /Findings\s*\d+/, 30_000);
          await waitForText(page, '.part.panel .monaco-list-row', /ring0\.(pageFault|exception)\+0x/, 30_000);
        }
        assert.doesNotMatch(said, /not watched/, 'the guest is watched');
        // The timeline, beside the view: a lane for the vCPU thread.
        await runCommand(page, 'Bluepill: Focus on Guest Timeline View');
        await webviewWith(page, 'svg text', /^vCPU thread \d+$/, 'a vCPU lane in the Guest Timeline', 30_000);
        await webviewWith(page, 'svg rect[opacity="0.35"]', /.*/, 'an activity bar in the vCPU lane', 30_000);
        await page.waitForTimeout(2500); // a few more summaries: the picture shows a running guest
        await screenshot(page, path.join(SCREENSHOTS, 'guest-hang.png'));
        await runCommand(page, 'View: Toggle Maximized Panel');
        // Paused: the vCPU goroutine's stack starts with its guest's last PC, above dlv's ioctl.
        const frames = page.locator('.debug-call-stack .monaco-list-row');
        // dlv finds the vCPU goroutine through a thread's TLS, and at some pauses it shows it on a thread
        // the kernel does not show in KVM_RUN (seen in CI); the proxy then says "guest: unknown (...)"
        // rather than guess. As a user would, continue and pause again (at most 4 pauses).
        let guestFrame: Locator;
        for (let pause = 1; ; pause++) {
          await runCommand(page, 'Debug: Pause');
          await waitForText(page, '.debug-call-stack', /Paused/i, 60_000);
          const callStack = page.locator('.pane-header[aria-expanded="false"]').filter({ hasText: /^Call Stack/i });
          if (await callStack.count()) {
            await callStack.first().focus();
            await page.keyboard.press('Enter');
          }
          await foldSections(page, ['Variables', 'Watch', 'Breakpoints']);
          // The threads are listed in dlv's order, goroutine 1 first: back to the top of the (virtual) list.
          await page.locator('.debug-call-stack').first().hover();
          await page.mouse.wheel(0, -20_000);
          const vcpu = await waitVisible(frames.filter({ hasText: /\[Go \d+\] (hostsyscall\.RawSyscallErrno|kvm\.bluepillUserHandler)/ }).first(), 'the vCPU goroutine in CALL STACK', 30_000);
          // A click selects the thread; the arrow key opens it (the call stack expands on its twistie only).
          // On a loaded machine the frames below the top one come seconds later (seen in CI: the separator showed
          // after the 10 s this waited then): each pause waits as long as the last one did.
          await vcpu.click();
          if ((await vcpu.getAttribute('aria-expanded')) !== 'true') await page.keyboard.press('ArrowRight');
          await page.mouse.wheel(0, -20_000);
          const separator = await waitVisible(frames.filter({ hasText: /── guest of vCPU thread \d+/ }), 'the separator naming the vCPU thread', 30_000).catch((e: Error) => {
            if (pause >= 4) throw e;
            return undefined;
          });
          // The guest frame below it, once VS Code has loaded the frames below the top one: when dlv's pause
          // names no thread, VS Code loads only each thread's top frame (the separator), and the rest on a click
          // of "Load More Stack Frames", as a user does. That row can come seconds after the separator (seen in CI).
          const found = separator && (await guestFrameBelow(page, frames, separator, pause >= 4));
          if (found) {
            guestFrame = found;
            break;
          }
          await runCommand(page, 'Debug: Continue');
          await waitForText(page, '.debug-call-stack', /Running/i, 30_000).catch(() => undefined);
          await page.waitForTimeout(1000); // the guest runs, and the trace sees it, before the next pause
        }
        if (fs.existsSync('/sys/module/kvm_pvm')) assert.match((await guestFrame.getAttribute('aria-label')) ?? '', /^Stack Frame \(guest\) ring0\.(pageFault|exception)\+0x[0-9a-f]+, line \d+, entry_amd64\.s/);
        await waitVisible(frames.filter({ hasText: 'host: ioctl(KVM_RUN), as dlv sees it' }), 'the host separator', 10_000);
        // The list still grows while the frames below load (seen in CI: the click landed on a row that had
        // moved under it): click, and again (bounded) until the guest frame is the one selected.
        for (let attempt = 1; ; attempt++) {
          await guestFrame.click();
          const opened = await waitVisible(page.locator('.tabs-container .tab.active').filter({ hasText: 'entry_amd64.s' }), 'ring0\'s entry_amd64.s opened at the guest\'s PC', attempt < 3 ? 8_000 : 30_000).catch((e: Error) => {
            if (attempt >= 3) throw e;
            return undefined;
          });
          if (opened) break;
        }
        // Room for the separators' words: a wider sidebar.
        const sidebar = await page.locator('.part.sidebar').boundingBox();
        if (sidebar) {
          // Drag the sash at the sidebar's right edge, as a user widens it.
          const x = sidebar.x + sidebar.width;
          await page.mouse.move(x, sidebar.y + sidebar.height / 2);
          await page.mouse.down();
          await page.mouse.move(x + 330, sidebar.y + sidebar.height / 2, { steps: 10 });
          await page.mouse.up();
        }
        await page.waitForTimeout(500);
        await screenshot(page, path.join(SCREENSHOTS, 'guest-frame.png'));
        // The Sentry's own table, read at the stop, in the Guest section (below the findings and loops: the panel maximized).
        await runCommand(page, 'View: Toggle Maximized Panel');
        await waitForText(page, '.part.panel .monaco-list-row', /vCPU thread \d+ · vCPU \d+/, 30_000);
        await waitForText(page, '.part.panel .monaco-list-row', /Sentry's vCPUs\s*\d+ in use/, 30_000);
        await page.keyboard.press('Shift+F5');
      });
    } finally {
      hang.stop();
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});

const NO_GUEST_PC = /no KVM event with a guest PC traced yet/;

/**
 * The guest frame under the vCPU separator, clicking "Load More Stack Frames" whenever VS Code shows it.
 * Undefined when the separator says no guest PC was traced for that thread yet (a pause to try again,
 * unless it is the `last`); a timeout fails with what CALL STACK showed.
 */
async function guestFrameBelow(page: Page, frames: Locator, separator: Locator, last: boolean): Promise<Locator | undefined> {
  const guestFrame = frames.and(page.locator('[aria-label^="Stack Frame (guest) "]')).first();
  const more = frames.filter({ hasText: /^\s*Load More Stack Frames\s*$/ }).first();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await guestFrame.isVisible().catch(() => false)) return guestFrame;
    const said = (await separator.innerText().catch(() => '')) ?? '';
    if (NO_GUEST_PC.test(said)) {
      if (last) throw new Error(`At the last pause, the vCPU separator still says: ${said}`);
      console.log(`this pause: ${said.trim()}; continuing and pausing again`);
      return undefined;
    }
    if (await more.isVisible().catch(() => false)) {
      console.log('clicking Load More Stack Frames');
      await more.click().catch(() => undefined);
    }
    await page.waitForTimeout(250);
  }
  const rows = await frames.allInnerTexts().catch(() => [] as string[]);
  throw new Error(`Timed out after 30000 ms waiting for the guest frame in CALL STACK; it showed:\n${rows.map((r) => `  ${r.replace(/\s+/g, ' ')}`).join('\n')}`);
}
