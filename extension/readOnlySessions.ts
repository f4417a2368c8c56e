// Coexistence with vscode-go: in a debug session of another type that talks to dlv
// (setting bluepill.readOnlyDebugTypes, "go" by default), a debug adapter tracker
// watches the messages and runs the bluepill tracker on them, read-only. The
// Bluepill State view, the status bar and Explain This PC work; annotations
// (register names, trampoline labels, breakpoint warnings) need the bluepill type.
import * as vscode from 'vscode';
import { ReadOnlyObserver } from '../adapter/hooks/bluepill/readOnly';
import type { BluepillStates } from './bluepillStates';
import { bluepillSettings, readOnlyDebugTypes } from './settings';

const observers = new Map<string, ReadOnlyObserver>();

/** The read-only tracker of a session, if it has one. */
export function readOnlyObserver(session: vscode.DebugSession | undefined): ReadOnlyObserver | undefined {
  return session ? observers.get(session.id) : undefined;
}

export function registerReadOnlyTracker(states: BluepillStates, log: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.debug.registerDebugAdapterTrackerFactory('*', {
    createDebugAdapterTracker(session) {
      if (!readOnlyDebugTypes().includes(session.type)) return undefined;
      log.info(`session "${session.name}" (type ${session.type}): following the round trip read-only; annotations need the bluepill type`);
      const observer = new ReadOnlyObserver(
        (command, args) => Promise.resolve(session.customRequest(command, args)),
        (state) => states.update(session, state),
        session.configuration,
        bluepillSettings(session.workspaceFolder),
      );
      observers.set(session.id, observer);
      states.begin(session, true);
      return {
        onWillReceiveMessage: (m) => observer.fromClient(m),
        onDidSendMessage: (m) => observer.fromAdapter(m),
        onWillStopSession: () => void observers.delete(session.id),
        onError: (e) => log.warn(`session "${session.name}": ${e.message}`),
      };
    },
  });
}
