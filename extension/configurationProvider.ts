// Fills in launch configurations: a starting launch.json, a default when there is
// none, and the process picker when an attach has no processId (nor waitFor).
import * as vscode from 'vscode';
import { pickAttachTarget } from './processPicker';

export class BluepillConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    // F5 with no launch.json: attach to a sandbox, the task this extension exists for.
    if (!config.type && !config.request && !config.name) {
      return { type: 'bluepill', request: 'attach', name: 'Attach to runsc sandbox', mode: 'local', asRoot: true, showRegisters: true };
    }
    return config;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    // A launch.json (or a dlvPath setting) from an untrusted folder must not start programs
    // unasked. VS Code asks for trust before debugging too; this holds for any entry point.
    if (!vscode.workspace.isTrusted) {
      const trust = 'Manage Workspace Trust';
      const choice = await vscode.window.showErrorMessage(
        'bluepill-lens starts dlv (and the program in your configuration) only in a trusted workspace. Trust this folder to debug it.',
        trust,
      );
      if (choice === trust) void vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    const localAttach = config.request === 'attach' && (config.mode ?? 'local') === 'local';
    if (localAttach && (config.processId === undefined || config.processId === '') && !config.waitFor) {
      const target = await pickAttachTarget();
      if (!target) return undefined; // the user closed the picker: start nothing
      return { ...config, ...target };
    }
    return config;
  }
}
