// The extension's settings, read where they are needed (never cached: users edit them live).
import * as vscode from 'vscode';

export function configuredDlvPath(folder?: vscode.WorkspaceFolder): string | undefined {
  const value = vscode.workspace.getConfiguration('bluepill', folder).get<string>('dlvPath', '');
  return value.trim() || undefined;
}
