// `npm run package` makes a .vsix holding the bundles, the manifest and the pages the
// extension shows, and none of the sources, tests or node_modules; vsce says nothing
// more than the files it packed. Then the path a user takes: install that .vsix into
// VS Code (code-server --install-extension) and debug the demo with it.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { SourceMap } from 'node:module';
import { repoRoot } from '../support/paths';
import { goToLine, installExtension, openFile, screenshot, startHost, tail, toggleBreakpoint, VSCODE_TEST_DIR, waitForText, waitVisible } from '../vscode/host';
import { DEMO_DIR, demoBreakpointLine, prepareDemo } from '../vscode/demo';

const VSIX = path.join(repoRoot, 'dist', 'bluepill-lens.vsix');
const vsixFiles = (): string[] => execFileSync('unzip', ['-Z1', VSIX], { encoding: 'utf8' }).split('\n').filter(Boolean);
const vsixText = (file: string): string => execFileSync('unzip', ['-p', VSIX, file], { encoding: 'utf8', maxBuffer: 64 << 20 });

describe('npm run package', () => {
  it('makes a .vsix with the bundles and nothing else of the repository, without warnings', () => {
    const run = spawnSync('npm', ['run', 'package'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, `npm run package failed:\n${run.stdout}\n${run.stderr}`);
    assert.doesNotMatch(`${run.stdout}\n${run.stderr}`, /WARNING|ERROR/, 'vsce warned');
    const listing = vsixFiles();
    for (const needed of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/media/icon.png', 'extension/changelog.md', 'extension/media/walkthrough/attach.md', 'extension/LICENSE.txt', 'extension/dist/ThirdPartyNotices.txt']) {
      assert.ok(listing.includes(needed), `${needed} in ${listing.join(', ')}`);
    }
    const leaked = listing.filter((f) => /node_modules|\.ts$|\/test\/|\/adapter\/|\/tools\/|\.svg$|docs\//.test(f));
    assert.deepEqual(leaked, []);
    // The stdio adapter bundle is the CLI's `adapter` command again: one copy ships.
    assert.ok(!listing.includes('extension/dist/adapter.js'), 'dist/adapter.js is not used by the extension');
    // The packaged CLI runs on its own.
    const help = execFileSync('node', [path.join(repoRoot, 'dist', 'cli.js'), 'help'], { encoding: 'utf8' });
    assert.match(help, /bluepill-lens/);
  });

  it('is a Marketplace package: a user README with images that resolve, links, full licence, notices, prepublish', () => {
    if (!fs.existsSync(VSIX)) execFileSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: 'ignore' });
    const manifest = JSON.parse(vsixText('extension/package.json'));
    for (const field of ['repository', 'bugs', 'homepage']) assert.ok(manifest[field], `package.json has ${field}`);
    assert.equal(manifest.scripts['vscode:prepublish'], 'node scripts/build.mjs --production');
    // The README shipped is the user's page, not the developers' (no npm test/start, no test suites).
    const readme = vsixText('extension/readme.md');
    assert.doesNotMatch(readme, /npm (test|start|run bench)|## Tests|scripts\//, 'developer instructions in the Marketplace README');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(images.length >= 3, `screenshots in the README: ${images.join(', ')}`);
    const base = `${String(manifest.repository.url).replace(/\.git$/, '')}/raw/HEAD/`;
    for (const url of images) {
      // Absolute (the Marketplace shows no relative image), and pointing at a file of this repository.
      assert.ok(url.startsWith(base), `${url} is an absolute URL into ${base}`);
      assert.ok(fs.existsSync(path.join(repoRoot, url.slice(base.length))), `${url}: the image is in the repository`);
    }
    const licence = vsixText('extension/LICENSE.txt');
    assert.match(licence, /TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
    assert.match(licence, /END OF TERMS AND CONDITIONS/);
    // Every npm package whose code the bundles carry (their source maps name it) has its notice.
    const notices = vsixText('extension/dist/ThirdPartyNotices.txt');
    for (const bundle of ['extension', 'cli']) {
      const map = JSON.parse(vsixText(`extension/dist/${bundle}.js.map`)) as { sources: string[] };
      const packages = new Set(map.sources.map((s) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s)?.[1]).filter(Boolean));
      for (const pkg of packages) assert.match(notices, new RegExp(`^${pkg} \\d`, 'm'), `${pkg} (in ${bundle}.js) has a notice`);
    }
  });

  it('ships minified bundles whose source maps lead back to the TypeScript sources', () => {
    if (!fs.existsSync(VSIX)) execFileSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: 'ignore' });
    const code = vsixText('extension/dist/cli.js');
    assert.match(code, /\/\/# sourceMappingURL=cli\.js\.map\s*$/);
    // Minified: no indented statements left (the CLI's help texts keep their own line breaks).
    assert.doesNotMatch(code, /^\s+(const|let|var|function|return) /m, 'the production bundle is minified');
    const payload = JSON.parse(vsixText('extension/dist/cli.js.map'));
    const map = new SourceMap(payload);
    // Where a string literal sits in the minified bundle maps back to a TypeScript file that holds it.
    const needle = 'TPIDR_EL1';
    const lines = code.split('\n');
    const line = lines.findIndex((l) => l.includes(needle));
    const entry = map.findEntry(line, lines[line].indexOf(needle)) as { originalSource?: string };
    const original = path.resolve(repoRoot, 'dist', String(entry.originalSource));
    assert.match(original, /\.ts$/);
    assert.ok(fs.readFileSync(original, 'utf8').includes(needle), `${original} holds ${needle}`);
    for (const source of payload.sources as string[]) {
      if (!source.includes('node_modules')) assert.ok(fs.existsSync(path.resolve(repoRoot, 'dist', source)), `${source} exists in the repository`);
    }
  });

  it('declares only the activation events VS Code cannot infer, and does not claim every Go workspace', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const inferred = (manifest.activationEvents as string[]).filter((e) => /^on(Command|View|Language|Walkthrough):/.test(e));
    assert.deepEqual(inferred, [], 'VS Code infers these from contributes since 1.74');
    const debuggerLanguages = manifest.contributes.debuggers[0].languages as string[];
    assert.ok(!debuggerLanguages.includes('go'), 'F5 in a Go file must not offer bluepill ahead of vscode-go');
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
