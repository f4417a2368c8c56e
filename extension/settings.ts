// The extension's settings, read where they are needed (never cached: users edit them live).
import * as vscode from 'vscode';
import type { BluepillSettings, ExtraLandmark } from '../adapter/hooks/bluepill';

export function configuredDlvPath(folder?: vscode.WorkspaceFolder): string | undefined {
  const value = vscode.workspace.getConfiguration('bluepill', folder).get<string>('dlvPath', '');
  return value.trim() || undefined;
}

export function bluepillSettings(folder?: vscode.WorkspaceFolder): BluepillSettings {
  const config = vscode.workspace.getConfiguration('bluepill', folder);
  return {
    variant: config.get<BluepillSettings['variant']>('variant', 'auto'),
    extraLandmarks: config.get<ExtraLandmark[]>('extraLandmarks', []),
  };
}
