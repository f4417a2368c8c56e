// Small helpers that drive the VS Code workbench the way a person does: keys
// and visible text. Every wait is bounded and fails with a message saying what
// it waited for.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Locator, Page } from 'playwright-core';

export const DEFAULT_UI_TIMEOUT_MS = 20_000;

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_ROW = `${QUICK_INPUT} .monaco-list-row`;

/** Waits until `locator` is visible, with a readable error. */
export async function waitVisible(locator: Locator, what: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<Locator> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
  }
  return locator.first();
}

/** Waits until nothing matches `locator`, with a readable error. */
export async function waitGone(locator: Locator, what: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'detached', timeout: timeoutMs });
  } catch {
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** Waits until an element matching `selector` shows `text`; returns that element. */
export function waitForText(page: Page, selector: string, text: string | RegExp,
  timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<Locator> {
  return waitVisible(page.locator(selector).filter({ hasText: text }),
    `"${text}" in ${selector}`, timeoutMs);
}

/** Opens the quick input with `key` and types `text` into it. */
async function quickInput(page: Page, key: string, text: string): Promise<void> {
  await page.keyboard.press(key);
  await waitVisible(page.locator(`${QUICK_INPUT} input`), `the quick input after ${key}`);
  await page.keyboard.type(text);
}

/** Waits until the focused quick-input row shows `text`, then accepts it with Enter. */
async function acceptFocusedRow(page: Page, text: string | RegExp, what: string): Promise<void> {
  await waitVisible(page.locator(`${QUICK_INPUT_ROW}.focused`).filter({ hasText: text }), what);
  await page.keyboard.press('Enter');
}

/** F1, type the command's title, Enter: as a user runs a command. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await quickInput(page, 'F1', title);
  await acceptFocusedRow(page, title, `command "${title}" in the palette`);
}

/** Ctrl+P quick open, then waits until the file's editor tab is active. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  const base = path.basename(relativePath);
  await quickInput(page, 'Control+P', relativePath);
  await acceptFocusedRow(page, base, `"${relativePath}" in quick open`);
  await waitVisible(page.locator('.tabs-container .tab.active').filter({ hasText: base }),
    `the editor tab of ${base}`);
  await waitVisible(page.locator('.editor-group-container.active .monaco-editor .view-lines'), 'the editor text');
}

/** Ctrl+G to a line of the active editor; waits for the status bar to show it. */
export async function goToLine(page: Page, line: number): Promise<void> {
  await quickInput(page, 'Control+G', String(line));
  await page.keyboard.press('Enter');
  await waitForText(page, '.statusbar-item', new RegExp(`Ln ${line},`), DEFAULT_UI_TIMEOUT_MS);
}

/** F9 on the cursor line; waits until a breakpoint glyph is in the editor margin. */
export async function toggleBreakpoint(page: Page): Promise<void> {
  const glyph = page.locator('.editor-group-container.active .codicon-debug-breakpoint');
  // The key goes to whatever has focus: give it to the editor (its cursor stays where it is).
  await page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
  await page.keyboard.press('F9');
  await waitVisible(glyph, 'a breakpoint glyph after F9');
}

/** F5: start the selected launch configuration (the first one of launch.json by default). */
export async function pressF5(page: Page): Promise<void> {
  await page.keyboard.press('F5');
}

/** Screenshot of the whole window to `file` (folders are created). */
export async function screenshot(page: Page, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
}

/** Rows of the open quick pick, as text. */
export function quickPickRows(page: Page): Locator {
  return page.locator(QUICK_INPUT_ROW);
}

/** Folds the Run and Debug sections named, where they are open, to give the others room. */
export async function foldSections(page: Page, titles: string[]): Promise<void> {
  // Opening Run and Debug focuses its Start button, whose hover can cover the first header: away with it.
  await page.mouse.move(700, 500);
  await page.keyboard.press('Escape');
  for (const title of titles) {
    const header = page.locator('.pane-header[aria-expanded="true"]').filter({ hasText: new RegExp(`^${title}`, 'i') });
    if (!(await header.count())) continue;
    // By keyboard (a pane header folds on Enter): a hover that comes back late cannot intercept it as it can a click.
    await header.first().focus();
    await page.keyboard.press('Enter');
    await waitGone(page.locator('.pane-header[aria-expanded="true"]').filter({ hasText: new RegExp(`^${title}`, 'i') }), `the ${title} section folded`);
  }
}

/** Adds a function breakpoint with the + of the Breakpoints section, then unfolds Call Stack to see the stop. */
export async function addFunctionBreakpoint(page: Page, name: string): Promise<void> {
  await page.locator('.activitybar .action-item a[aria-label^="Run and Debug"]').click();
  const breakpoints = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: /^Breakpoints/i }) });
  await waitVisible(breakpoints.locator('.pane-header'), 'the Breakpoints section');
  // Give the Breakpoints section room for its input: fold the sections above it.
  await foldSections(page, ['Variables', 'Watch', 'Call Stack']);
  if ((await breakpoints.locator('.pane-header[aria-expanded="false"]').count()) > 0) await breakpoints.locator('.pane-header').click();
  await breakpoints.locator('.pane-header').hover();
  await breakpoints.locator('.pane-header .action-label[aria-label="Add Function Breakpoint"]').click();
  const input = await waitVisible(page.locator('input[placeholder="Function to break on"]'), 'the function breakpoint input');
  await input.fill(name);
  await input.press('Enter');
  await waitForText(page, '.pane-body .monaco-list-row', name);
  const callStack = page.locator('.pane-header[aria-expanded="false"]').filter({ hasText: /^Call Stack/i });
  if (await callStack.count()) await callStack.first().click();
}

/** The rows of the Bluepill State view, in the Bluepill panel. */
export const stateViewRows = (page: Page): Locator => page.locator('.part.panel .monaco-list-row');

/**
 * Waits for the Bluepill State view in its panel. At the first stop inside the round trip
 * the view shows itself; `open` runs "Bluepill: Show State View" first, as a user would.
 */
export async function openBluepillStateView(page: Page, open = false): Promise<void> {
  if (open) await runCommand(page, 'Bluepill: Show State View');
  await waitVisible(page.locator('.part.panel .composite.title').filter({ hasText: /Bluepill/i }), 'the Bluepill panel', 30_000);
  await waitVisible(stateViewRows(page).first(), 'the rows of the Bluepill State view', 30_000);
}

/**
 * The content frame of whichever webview shows `selector` with `text`: the editor's webviews
 * (an Explain panel) and the panel's (the Guest Timeline) are all iframe.webview elements.
 */
export async function webviewWith(page: Page, selector: string, text: string | RegExp, what: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<Locator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const target = page.frameLocator(`iframe.webview.ready >> nth=${i}`).frameLocator('iframe#active-frame').locator(selector).filter({ hasText: text });
      if (await target.first().isVisible().catch(() => false)) return target.first();
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await page.waitForTimeout(250);
  }
}
