// "Bluepill: Open State Pane": a read-only virtual document beside the editor that
// renders the state as text, refreshed at every stop while it is open.
import * as vscode from 'vscode';
import { renderState } from '../adapter/bluepill/render';
import { emptyState } from '../adapter/bluepill/state';
import type { BluepillStates } from './bluepillStates';

export const STATE_SCHEME = 'bluepill-state';
export const STATE_URI = vscode.Uri.parse(`${STATE_SCHEME}:Bluepill%20State.txt`);

export class StatePaneProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly states: BluepillStates) {
    states.onDidChange(() => this.changed.fire(STATE_URI));
  }

  provideTextDocumentContent(): string {
    return renderState(this.states.current()?.state ?? emptyState());
  }
}

export async function openStatePane(): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(STATE_URI);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
}
