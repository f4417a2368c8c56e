// Runs a real VS Code (code-server 4.100.3 = VS Code 1.100.3) with the
// extension under development, and drives its web workbench in Debian's
// Chromium through playwright-core. @vscode/test-electron cannot be used here:
// it downloads VS Code from a host this machine cannot reach.
//
// startHost() gives back a Host whose close() always tears everything down; use
// it in try/finally (or `after`) so a failing test leaves no server behind.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as util from 'node:util';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

export * from './ui';
import { screenshot } from './ui';

/** The repo root: this file runs as out/test/vscode/host.js. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const VSCODE_TEST_DIR = path.join(REPO_ROOT, '.vscode-test');
export const CODE_SERVER_ENTRY = path.join(
  VSCODE_TEST_DIR, 'code-server/node_modules/code-server/out/node/entry.js');
export const DEFAULT_EXTENSIONS_DIR = path.join(VSCODE_TEST_DIR, 'extensions');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet and offline in a container without a GPU. */
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** User settings that make the workbench deterministic for tests. */
const TEST_USER_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'remote.autoForwardPorts': false,
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

export interface HostOptions {
  /** Folder the workbench opens. */
  workspace: string;
  /** Compiled mocha runner (e.g. out/test/vscode/suite/index.js) to run in the extension host. */
  extensionTestsPath?: string;
  /** Defaults to the repo root, whose package.json `main` is ./dist/extension.js; null: none (installed extensions only). */
  extensionDevelopmentPath?: string | null;
  /** Where installed extensions live; defaults to .vscode-test/extensions. */
  extensionsDir?: string;
  /** Extra user settings (merged over TEST_USER_SETTINGS). */
  userSettings?: Record<string, unknown>;
  /** Names the per-run state folder under .vscode-test/runs/. */
  label?: string;
  viewport?: { width: number; height: number };
  /** Bound for server start and workbench load, in ms. */
  startTimeoutMs?: number;
}

export interface Host {
  url: string;
  port: number;
  page: Page;
  /** Resolves with the code the workbench passes to codeAutomationExit. */
  automationExit: Promise<number>;
  /** Lines from codeAutomationLog (workbench + extension host console) and the server. */
  logs: string[];
  /** Waits for codeAutomationExit, failing with the collected logs after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<number>;
  /** Kills the server's process group and closes the browser. Safe to call twice. */
  close(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Rejects after ms, naming `what` (a function: built at the time-out, e.g. with the latest logs). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(new Error(`Timed out after ${ms} ms: ${typeof what === 'function' ? what() : what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The `?folder=...&payload=...` URL that opens WORKSPACE with a development extension.
 * Known quirk: with one extension under development the workbench applies the
 * themes found under its folder, and the repo root holds code-server's built-in
 * themes in .vscode-test/, so the file icons are the minimal theme's (a symlinked
 * mirror avoids that but breaks the extension's `vscode` API binding: Node
 * resolves the symlinks; several development paths are not possible either).
 */
export function workbenchUrl(base: string, authority: string, workspace: string,
  extensionDevelopmentPath: string | null, extensionTestsPath?: string): string {
  const remote = (p: string) => `vscode-remote://${authority}${path.resolve(p)}`;
  const folder = `${base}/?folder=${encodeURIComponent(path.resolve(workspace))}`;
  if (extensionDevelopmentPath === null) return folder; // as a user opens it
  // One entry per key: the workbench reads the payload into a Map.
  const payload: [string, string][] = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  return `${folder}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** `code-server --install-extension VSIX`, as a user installs a .vsix; returns its output. */
export function installExtension(vsix: string, extensionsDir = DEFAULT_EXTENSIONS_DIR): string {
  return execFileSync(process.execPath, [CODE_SERVER_ENTRY, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'], {
    encoding: 'utf8', env: serverEnv(), timeout: 120_000,
  });
}

export async function startHost(opts: HostOptions): Promise<Host> {
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    throw new Error(`code-server is not installed (${CODE_SERVER_ENTRY}); run scripts/setup-vscode.sh`);
  }
  const startTimeout = opts.startTimeoutMs ?? 60_000;
  const logs: string[] = [];
  const log = (line: string) => { if (logs.length < 20_000) logs.push(line); };
  const runDir = prepareRunDir(opts.label ?? 'default', { ...TEST_USER_SETTINGS, ...opts.userSettings });

  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (browser) await withTimeout(browser.close(), 10_000, 'closing Chromium').catch(() => undefined);
    if (server) await killGroup(server);
  };

  try {
    // A free port can be taken before the server binds it: then try another.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      server = startServer(port, opts.workspace, runDir, opts.extensionsDir ?? DEFAULT_EXTENSIONS_DIR, log);
      try {
        await withTimeout(waitForHealthy(`http://127.0.0.1:${port}`, server), startTimeout,
          `code-server to answer on http://127.0.0.1:${port}/healthz`);
        break;
      } catch (err) {
        await killGroup(server);
        if (attempt === 3 || !(err instanceof ServerExitedError)) throw new Error(`${(err as Error).message}\n${tail(logs)}`);
      }
    }
    const base = `http://127.0.0.1:${port}`;

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: startTimeout,
    });
    const context: BrowserContext = await browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 800 },
    });
    const page = await context.newPage();

    // The workbench calls these when it runs extension tests (and logs with the second).
    let resolveExit!: (code: number) => void;
    const automationExit = new Promise<number>((r) => { resolveExit = r; });
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    // args are console.log arguments, format string first (mocha prints '%s%s').
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) =>
      log(`[${type}] ${util.format(...(Array.isArray(args) ? args : [args]))}`));
    page.on('pageerror', (e) => log(`[pageerror] ${e.message}`));

    const url = workbenchUrl(base, `127.0.0.1:${port}`, opts.workspace,
      opts.extensionDevelopmentPath === undefined ? REPO_ROOT : opts.extensionDevelopmentPath, opts.extensionTestsPath);
    await page.goto(url, { timeout: startTimeout });
    await page.locator('.monaco-workbench .part.statusbar')
      .waitFor({ state: 'visible', timeout: startTimeout })
      .catch((e) => { throw new Error(`workbench did not load within ${startTimeout} ms: ${e.message}\n${tail(logs)}`); });

    const waitForExit = (ms: number) => withTimeout(automationExit, ms,
      () => `extension tests to finish (codeAutomationExit)\n${tail(logs)}`);
    return { url, port, page, automationExit, logs, waitForExit, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A fresh per-run user-data dir (so no state leaks between runs) with test settings. */
function prepareRunDir(label: string, settings: Record<string, unknown>): string {
  const runDir = path.join(VSCODE_TEST_DIR, 'runs', label);
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(runDir, 'user-data/User'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'user-data/User/settings.json'), JSON.stringify(settings, null, 2));
  return runDir;
}

/** Keeps code-server's own files under .vscode-test and away from any marketplace. */
function serverEnv(): NodeJS.ProcessEnv {
  const xdg = path.join(VSCODE_TEST_DIR, 'xdg');
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
    XDG_CACHE_HOME: path.join(xdg, 'cache'),
    // No marketplace: this machine cannot reach one, and tests must not try.
    EXTENSIONS_GALLERY: '{}',
  };
}

function startServer(port: number, workspace: string, runDir: string, extensionsDir: string, log: (l: string) => void): ChildProcess {
  const args = [
    CODE_SERVER_ENTRY, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', path.join(runDir, 'user-data'),
    '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened', workspace,
  ];
  // detached: own process group, so close() can end the extension host, the
  // debug adapter and dlv along with the server.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(),
  });
  const onData = (prefix: string) => (b: Buffer) =>
    b.toString().split('\n').filter(Boolean).forEach((l) => log(`[${prefix}] ${l}`));
  child.stdout!.on('data', onData('server'));
  child.stderr!.on('data', onData('server!'));
  child.on('exit', (code, sig) => log(`[server] exited code=${code} signal=${sig}`));
  return child;
}

class ServerExitedError extends Error {}

/** Polls /healthz; fails at once if the server process dies. */
async function waitForHealthy(base: string, server: ChildProcess): Promise<void> {
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new ServerExitedError(`code-server exited early (code ${server.exitCode}, signal ${server.signalCode})`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`${base}/healthz`, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
      req.setTimeout(2000, () => { req.destroy(); resolve(false); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** SIGTERM the whole process group, then SIGKILL whatever is left after 3 s. */
async function killGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (!pid) return;
  const signalGroup = (sig: NodeJS.Signals) => { try { process.kill(-pid, sig); } catch { /* gone */ } };
  signalGroup('SIGTERM');
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
  signalGroup('SIGKILL'); // children of the server may outlive it
}

/** The last lines of the log, for error messages. */
export function tail(logs: string[], n = 40): string {
  return logs.length ? `--- last ${Math.min(n, logs.length)} log lines ---\n${logs.slice(-n).join('\n')}` : '';
}

/** Runs fn against a fresh VS Code; on failure keeps a screenshot and the log tail. */
export async function withHost(opts: HostOptions, fn: (host: Host) => Promise<void>): Promise<void> {
  const host = await startHost(opts);
  try {
    await fn(host);
  } catch (err) {
    const shot = path.join(VSCODE_TEST_DIR, 'failures', `${opts.label ?? 'host'}.png`);
    await screenshot(host.page, shot).catch(() => undefined);
    if (err instanceof Error) err.message += `\n(screenshot: ${shot})\n${tail(host.logs)}`;
    throw err;
  } finally {
    await host.close();
  }
}

