// Keeps the latest `bluepill/state` of each bluepill debug session, from the
// proxy's custom events, and tells the view and the pane when it changes.
import * as vscode from 'vscode';
import { emptyState, GET_STATE_REQUEST, STATE_EVENT, WARNING_EVENT, type BluepillState } from '../adapter/bluepill/state';
import { DEBUG_TYPE } from './debugType';

export class BluepillStates implements vscode.Disposable {
  private readonly states = new Map<string, BluepillState>();
  private readonly changed = new vscode.EventEmitter<vscode.DebugSession | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      this.changed,
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => this.onCustomEvent(e)),
      vscode.debug.onDidTerminateDebugSession((session) => {
        if (this.states.delete(session.id)) this.changed.fire(session);
      }),
      vscode.debug.onDidChangeActiveDebugSession(() => this.changed.fire(undefined)),
      vscode.debug.onDidStartDebugSession((session) => {
        if (session.type !== DEBUG_TYPE) return;
        this.states.set(session.id, emptyState());
        this.changed.fire(session);
        // Asked once in case a stop happened before the view listened.
        session.customRequest(GET_STATE_REQUEST).then(
          (state: BluepillState) => this.update(session, state),
          () => undefined,
        );
      }),
    ];
  }

  /** The state of the active bluepill session (or the only one). */
  current(): { session: vscode.DebugSession; state: BluepillState } | undefined {
    const active = vscode.debug.activeDebugSession;
    if (active && this.states.has(active.id)) return { session: active, state: this.states.get(active.id)! };
    return undefined;
  }

  private onCustomEvent(e: vscode.DebugSessionCustomEvent): void {
    if (e.session.type !== DEBUG_TYPE) return;
    if (e.event === STATE_EVENT) this.update(e.session, e.body as BluepillState);
    else if (e.event === WARNING_EVENT) {
      void vscode.window.showWarningMessage(`bluepill-lens: ${(e.body as { message: string }).message}`);
    }
  }

  private update(session: vscode.DebugSession, state: BluepillState): void {
    if (!state || !this.states.has(session.id)) return;
    this.states.set(session.id, state);
    this.changed.fire(session);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
