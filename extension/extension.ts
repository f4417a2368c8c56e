// Entry point: wires the shared adapter/ core into VS Code. No domain logic here.
import * as vscode from 'vscode';
import { BluepillAdapterFactory } from './adapterFactory';
import { AddressDocumentProvider, DISASM_SCHEME, OPEN_ADDRESS_COMMAND, openAddress } from './addressDocument';
import { BluepillStates } from './bluepillStates';
import { BluepillConfigurationProvider } from './configurationProvider';
import { DEBUG_TYPE } from './debugType';
import { EXPLAIN_SCHEME, explainInPickedBinary, explainPc, explanationPages } from './explainPc';
import { GO_OBJDUMP, ObjdumpHoverProvider } from './objdumpHover';
import { ObjdumpDefinitionProvider, ObjdumpSymbolProvider } from './objdumpNavigation';
import { forgetIndex } from './listingIndexes';
import { pickSandboxProcess } from './processPicker';
import { openStatePane, STATE_SCHEME, StatePaneProvider } from './statePane';
import { StateViewProvider } from './stateView';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('bluepill-lens', { log: true });
  const states = new BluepillStates();
  context.subscriptions.push(
    log,
    states,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new BluepillAdapterFactory(log)),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new BluepillConfigurationProvider()),
    vscode.commands.registerCommand('bluepill.pickSandboxProcess', pickSandboxProcess),
    vscode.languages.registerHoverProvider({ language: GO_OBJDUMP }, new ObjdumpHoverProvider()),
    vscode.languages.registerDocumentSymbolProvider({ language: GO_OBJDUMP }, new ObjdumpSymbolProvider()),
    vscode.languages.registerDefinitionProvider({ language: GO_OBJDUMP }, new ObjdumpDefinitionProvider()),
    vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, explanationPages),
    vscode.commands.registerCommand('bluepill.explainPc', explainPc),
    vscode.commands.registerCommand('bluepill.explainAddressInBinary', () => explainInPickedBinary()),
    vscode.window.registerTreeDataProvider('bluepill.state', new StateViewProvider(states)),
    vscode.workspace.registerTextDocumentContentProvider(STATE_SCHEME, new StatePaneProvider(states)),
    vscode.workspace.registerTextDocumentContentProvider(DISASM_SCHEME, new AddressDocumentProvider()),
    vscode.commands.registerCommand('bluepill.openStatePane', openStatePane),
    vscode.commands.registerCommand(OPEN_ADDRESS_COMMAND, openAddress),
    vscode.workspace.onDidCloseTextDocument(forgetIndex),
  );
}

export function deactivate(): void {
  // Sessions own their proxies; VS Code disposes them, which ends their dlv.
}
