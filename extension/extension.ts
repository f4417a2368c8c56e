// Entry point: wires the shared adapter/ core into VS Code. No domain logic here.
import * as vscode from 'vscode';
import { BluepillAdapterFactory } from './adapterFactory';
import { BluepillConfigurationProvider } from './configurationProvider';
import { pickSandboxProcess } from './processPicker';
import { GO_OBJDUMP, ObjdumpHoverProvider } from './objdumpHover';

export const DEBUG_TYPE = 'bluepill';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('bluepill-lens', { log: true });
  context.subscriptions.push(
    log,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new BluepillAdapterFactory(log)),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new BluepillConfigurationProvider()),
    vscode.commands.registerCommand('bluepill.pickSandboxProcess', pickSandboxProcess),
    vscode.languages.registerHoverProvider({ language: GO_OBJDUMP }, new ObjdumpHoverProvider()),
  );
}

export function deactivate(): void {
  // Sessions own their proxies; VS Code disposes them, which ends their dlv.
}
