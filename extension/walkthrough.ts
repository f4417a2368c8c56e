// The commands behind the buttons of the walkthrough "Debug gVisor's KVM platform"
// (contributes.walkthroughs): find dlv, build runsc with symbols, give Docker a
// runsc runtime on the KVM platform, attach, show the state view. Each returns
// what it did, so scripts and tests can check it.
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import { locateDlv } from '../adapter/dlv/locate';
import { configuredDlvPath } from './settings';
import { STATE_VIEW_ID } from './statusBar';

export const DLV_VERSION = 'v1.27.2';

interface DlvFound {
  path?: string;
  version?: string;
  error?: string;
}

/**
 * "Bluepill: Locate dlv": says which dlv sessions will use (returned at once), and
 * offers to pick another or install one.
 */
export function locateDlvCommand(): DlvFound {
  let found: DlvFound;
  try {
    const path = locateDlv(configuredDlvPath());
    found = { path, version: dlvVersion(path) };
  } catch (e) {
    found = { error: (e as Error).message };
  }
  void offerChoices(found);
  return found;
}

async function offerChoices(found: DlvFound): Promise<void> {
  const pick = 'Choose dlv...';
  const install = 'Install with go install';
  const choice = found.path
    ? await vscode.window.showInformationMessage(`bluepill-lens uses ${found.path}${found.version ? ` (Delve ${found.version})` : ''}.`, pick, install)
    : await vscode.window.showErrorMessage(`bluepill-lens: ${found.error}`, pick, install);
  if (choice === pick) {
    const picked = await vscode.window.showOpenDialog({ title: 'Which dlv should bluepill-lens use?', canSelectMany: false, openLabel: 'Use this dlv' });
    if (picked?.[0]) {
      await vscode.workspace.getConfiguration('bluepill').update('dlvPath', picked[0].fsPath, vscode.ConfigurationTarget.Global);
      locateDlvCommand();
    }
  } else if (choice === install) {
    const terminal = vscode.window.createTerminal({ name: 'Install dlv' });
    terminal.show();
    terminal.sendText(`go install github.com/go-delve/delve/cmd/dlv@${DLV_VERSION} && echo "dlv is in $(go env GOPATH)/bin: put it on PATH or set bluepill.dlvPath"`);
  }
}

/** `dlv version`'s number, or undefined when it does not answer like dlv. */
function dlvVersion(path: string): string | undefined {
  try {
    const out = execFileSync(path, ['version'], { encoding: 'utf8', timeout: 10_000 });
    return /Version:\s*(\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

export const BUILD_RUNSC_TERMINAL = 'Build runsc with symbols';

/**
 * "Bluepill: Build runsc with Symbols": a terminal with the build line typed in, not run,
 * so the user can check the folder first. Symbols and DWARF stay unless -ldflags=-s -w.
 */
export function buildRunscCommand(): string {
  const line = 'CGO_ENABLED=0 go build -o bin/runsc ./runsc && go tool nm bin/runsc | grep -c "kvm.bluepill"   # in a checkout of gVisor\'s go branch';
  const terminal = vscode.window.createTerminal({ name: BUILD_RUNSC_TERMINAL, cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath });
  terminal.show();
  terminal.sendText(line, false);
  return line;
}

/** The runtime from the notes: Docker runs containers with runsc on the KVM platform, with debug logs. */
export function dockerDaemonJson(runscPath = '/usr/local/bin/runsc'): string {
  const config = {
    runtimes: {
      runsc: { path: runscPath, runtimeArgs: ['--cpu-num-from-quota', '--platform=kvm', '--debug-log=/tmp/runsc/', '--debug'] },
    },
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/**
 * "Bluepill: Configure Docker's runsc Runtime": opens, unsaved, the part to merge into
 * /etc/docker/daemon.json and how to apply it (writing /etc needs root: the user does it).
 */
export async function dockerRuntimeCommand(): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content: `// Merge into /etc/docker/daemon.json (as root), set "path" to your runsc, then:\n//   sudo systemctl reload docker\n//   docker run --rm --runtime=runsc -it alpine sh      (then attach to its runsc-sandbox)\n${dockerDaemonJson()}` });
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** "Bluepill: Attach to runsc Sandbox": the attach configuration, with the picker. */
export function attachToSandboxCommand(): Thenable<boolean> {
  return vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
    type: 'bluepill', request: 'attach', name: 'Attach to runsc sandbox', mode: 'local', asRoot: true, showRegisters: true,
  });
}

/** "Bluepill: Show State View": the view is shown outside a session too, with its welcome text. */
export async function showStateViewCommand(): Promise<void> {
  await vscode.commands.executeCommand('setContext', 'bluepill.stateViewRequested', true);
  await vscode.commands.executeCommand(`${STATE_VIEW_ID}.focus`);
}
