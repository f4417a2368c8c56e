// Entry point: wires the shared adapter/ core into VS Code. No domain logic here.
import * as vscode from 'vscode';
import { BluepillAdapterFactory } from './adapterFactory';
import { AddressDocumentProvider, DISASM_SCHEME, OPEN_ADDRESS_COMMAND, openAddress } from './addressDocument';
import { BluepillStates, type CurrentState } from './bluepillStates';
import { BluepillConfigurationProvider } from './configurationProvider';
import { DEBUG_TYPE } from './debugType';
import { explainInPickedBinary, explainPc } from './explainPc';
import { decodeCrashReportCommand } from './crashReport';
import { explainAddressCommand } from './explainAddress';
import { GO_OBJDUMP, ObjdumpHoverProvider } from './objdumpHover';
import { ObjdumpDefinitionProvider, ObjdumpSymbolProvider } from './objdumpNavigation';
import { forgetIndex } from './listingIndexes';
import { pickSandboxProcess } from './processPicker';
import { openStatePane, STATE_SCHEME, StatePaneProvider } from './statePane';
import { createStateView } from './stateView';
import { registerTimelineView } from './timelineView';
import { registerReadOnlyTracker } from './readOnlySessions';
import { registerRunToCommands } from './runTo';
import { phaseStatusBar } from './statusBar';
import { OPEN_TRACE_COMMAND, TraceFiles } from './traceFiles';
import { attachToSandboxCommand, buildRunscCommand, dockerRuntimeCommand, locateDlvCommand, showStateViewCommand } from './walkthrough';

/** What activate() returns: the followed state of the active session, for other extensions and tests. */
export interface BluepillApi {
  current(): Pick<CurrentState, 'state' | 'readOnly'> & { sessionId: string; sessionType: string } | undefined;
}

export function activate(context: vscode.ExtensionContext): BluepillApi {
  const log = vscode.window.createOutputChannel('bluepill-lens', { log: true });
  const states = new BluepillStates();
  const traces = new TraceFiles(context.logUri, log);
  context.subscriptions.push(
    log,
    states,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new BluepillAdapterFactory(log, traces)),
    registerReadOnlyTracker(states, log),
    phaseStatusBar(states),
    // Menus and keys of Explain This PC also apply to the Go sessions followed read-only.
    states.onDidChange(() => void vscode.commands.executeCommand('setContext', 'bluepill.readOnlySession', states.current()?.readOnly === true)),
    vscode.commands.registerCommand(OPEN_TRACE_COMMAND, () => traces.open()),
    vscode.commands.registerCommand('bluepill.locateDlv', locateDlvCommand),
    vscode.commands.registerCommand('bluepill.buildRunsc', buildRunscCommand),
    vscode.commands.registerCommand('bluepill.configureDockerRuntime', dockerRuntimeCommand),
    vscode.commands.registerCommand('bluepill.attachToSandbox', attachToSandboxCommand),
    vscode.commands.registerCommand('bluepill.showStateView', showStateViewCommand),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new BluepillConfigurationProvider()),
    vscode.commands.registerCommand('bluepill.pickSandboxProcess', pickSandboxProcess),
    vscode.languages.registerHoverProvider({ language: GO_OBJDUMP }, new ObjdumpHoverProvider()),
    vscode.languages.registerDocumentSymbolProvider({ language: GO_OBJDUMP }, new ObjdumpSymbolProvider()),
    vscode.languages.registerDefinitionProvider({ language: GO_OBJDUMP }, new ObjdumpDefinitionProvider()),
    vscode.commands.registerCommand('bluepill.explainPc', explainPc),
    vscode.commands.registerCommand('bluepill.explainAddress', explainAddressCommand),
    vscode.commands.registerCommand('bluepill.explainAddressInBinary', explainInPickedBinary),
    vscode.commands.registerCommand('bluepill.decodeCrashReport', decodeCrashReportCommand),
    createStateView(states),
    registerRunToCommands(states),
    registerTimelineView(states),
    vscode.workspace.registerTextDocumentContentProvider(STATE_SCHEME, new StatePaneProvider(states)),
    vscode.workspace.registerTextDocumentContentProvider(DISASM_SCHEME, new AddressDocumentProvider()),
    vscode.commands.registerCommand('bluepill.openStatePane', openStatePane),
    vscode.commands.registerCommand(OPEN_ADDRESS_COMMAND, openAddress),
    vscode.workspace.onDidCloseTextDocument(forgetIndex),
  );
  log.info(`bluepill-lens ${context.extension.packageJSON.version} active; DAP traces go to ${context.logUri.fsPath} when bluepill.trace is on`);
  return {
    current() {
      const c = states.current();
      return c && { sessionId: c.session.id, sessionType: c.session.type, state: c.state, readOnly: c.readOnly };
    },
  };
}

export function deactivate(): void {
  // Sessions own their proxies; VS Code disposes them, which ends their dlv.
}
