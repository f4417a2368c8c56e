// Runs the proxy inline in the extension host: one DlvProxy per debug session, told
// up front which dlv to use (so `initialize` already reaches the real dlv).
import * as vscode from 'vscode';
import { DlvProxy } from '../adapter/dap/proxy';
import { targetFromArguments } from '../adapter/dlv/target';
import { defaultHooks } from '../adapter/hooks';
import { bluepillSettings, configuredDlvPath } from './settings';

export class BluepillAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const defaults = { dlvPath: configuredDlvPath(session.workspaceFolder) };
    const proxy = new DlvProxy({
      initialTarget: targetFromArguments(session.configuration, defaults),
      defaults,
      hooks: defaultHooks(bluepillSettings(session.workspaceFolder)),
      log: (line) => this.log.debug(`[${session.name}] ${line}`),
    });
    this.log.info(`session "${session.name}": ${session.configuration.request} mode ${session.configuration.mode ?? '(default)'}`);
    return new vscode.DebugAdapterInlineImplementation(proxy.client);
  }
}
