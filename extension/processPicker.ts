// "Bluepill: Pick Sandbox Process": a quick pick of processes, runsc sandboxes first.
// Returns the pid as a string, as ${command:...} substitution requires.
import * as vscode from 'vscode';
import { listProcesses } from '../adapter/processes/procfs';
import { describeProcess, orderForPicker, type PickableProcess } from '../adapter/processes/sandboxes';

interface ProcessItem extends vscode.QuickPickItem {
  pid?: number;
}

export async function pickSandboxProcess(): Promise<string | undefined> {
  let processes: PickableProcess[];
  try {
    processes = orderForPicker(listProcesses());
  } catch (e) {
    void vscode.window.showErrorMessage(`bluepill-lens could not list processes: ${(e as Error).message}. The picker reads /proc, so it works on Linux only; on another OS set "processId" by hand.`);
    return undefined;
  }
  const items = toItems(processes);
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Attach to which process?',
    placeHolder: processes.some((p) => p.sandbox) ? 'runsc sandboxes are listed first' : 'No runsc sandbox is running: pick any Go process',
    matchOnDescription: true,
    matchOnDetail: true,
    // Looking up a pid in a terminal (or a terminal grabbing focus as it starts) must not cancel the attach.
    ignoreFocusOut: true,
  });
  return picked?.pid !== undefined ? String(picked.pid) : undefined;
}

function toItems(processes: PickableProcess[]): ProcessItem[] {
  const sandboxes = processes.filter((p) => p.sandbox);
  const items: ProcessItem[] = [{ label: 'runsc sandboxes', kind: vscode.QuickPickItemKind.Separator }];
  if (sandboxes.length === 0) {
    items.push({ label: '$(info) No runsc sandbox is running', description: 'start one with `runsc --platform=kvm ...`, or pick another process below', alwaysShow: true });
  }
  for (const p of sandboxes) items.push(processItem(p));
  items.push({ label: 'other processes', kind: vscode.QuickPickItemKind.Separator });
  for (const p of processes.filter((q) => !q.sandbox)) items.push(processItem(p));
  return items;
}

function processItem(p: PickableProcess): ProcessItem {
  return {
    label: `${p.sandbox ? '$(vm) ' : ''}${describeProcess(p)}`,
    description: p.uid === 0 ? 'root' : `uid ${p.uid}`,
    detail: p.argv.join(' ').slice(0, 300),
    pid: p.pid,
  };
}
