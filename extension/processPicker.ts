// "Bluepill: Pick Sandbox Process": a quick pick of processes, runsc sandboxes first.
// Returns the pid as a string, as ${command:...} substitution requires. An attach with
// no processId gets the same list, plus waiting for the next sandbox to start (waitFor).
import * as vscode from 'vscode';
import { listProcesses } from '../adapter/processes/procfs';
import { describeProcess, orderForPicker, type PickableProcess } from '../adapter/processes/sandboxes';

interface ProcessItem extends vscode.QuickPickItem {
  pid?: number;
  waitFor?: string;
}

/** dlv's waitFor matches the start of a command line; a sandbox's reads "runsc-sandbox ...". */
export const SANDBOX_WAIT_FOR = 'runsc-sandbox';

export async function pickSandboxProcess(): Promise<string | undefined> {
  const picked = await pick(false);
  return picked?.pid !== undefined ? String(picked.pid) : undefined;
}

/** For an attach with no processId: a running process, or the next sandbox to start. */
export async function pickAttachTarget(): Promise<{ processId: number } | { waitFor: string } | undefined> {
  const picked = await pick(true);
  if (picked?.waitFor) return { waitFor: picked.waitFor };
  return picked?.pid !== undefined ? { processId: picked.pid } : undefined;
}

async function pick(offerWait: boolean): Promise<ProcessItem | undefined> {
  let processes: PickableProcess[];
  try {
    processes = orderForPicker(listProcesses());
  } catch (e) {
    void vscode.window.showErrorMessage(`bluepill-lens could not list processes: ${(e as Error).message}. The picker reads /proc, so it works on Linux only; on another OS set "processId" by hand.`);
    return undefined;
  }
  const items = toItems(processes, offerWait);
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Attach to which process?',
    placeHolder: processes.some((p) => p.sandbox) ? 'runsc sandboxes are listed first' : 'No runsc sandbox is running: pick any Go process',
    matchOnDescription: true,
    matchOnDetail: true,
    // Looking up a pid in a terminal (or a terminal grabbing focus as it starts) must not cancel the attach.
    ignoreFocusOut: true,
  });
  return picked;
}

function toItems(processes: PickableProcess[], offerWait: boolean): ProcessItem[] {
  const sandboxes = processes.filter((p) => p.sandbox);
  const items: ProcessItem[] = [{ label: 'runsc sandboxes', kind: vscode.QuickPickItemKind.Separator }];
  if (sandboxes.length === 0) {
    items.push({ label: '$(info) No runsc sandbox is running', description: 'start one with `runsc --platform=kvm ...`, or pick another process below', alwaysShow: true });
  }
  for (const p of sandboxes) items.push(processItem(p));
  if (offerWait) {
    items.push({ label: '$(watch) Wait for the next runsc sandbox to start', description: `waitFor "${SANDBOX_WAIT_FOR}"`, detail: 'attach as soon as it starts (then start the container)', waitFor: SANDBOX_WAIT_FOR, alwaysShow: true });
  }
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
