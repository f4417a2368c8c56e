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

/** Debug types whose sessions talk to dlv without the proxy (vscode-go's "go"): followed read-only. */
export function readOnlyDebugTypes(): string[] {
  const types = vscode.workspace.getConfiguration('bluepill').get<unknown>('readOnlyDebugTypes', ['go']);
  return Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string' && t !== 'bluepill') : [];
}

/** bluepill.trace: write each session's DAP messages to a file, for bug reports. */
export function traceEnabled(folder?: vscode.WorkspaceFolder): boolean {
  return vscode.workspace.getConfiguration('bluepill', folder).get<boolean>('trace', false) === true;
}
