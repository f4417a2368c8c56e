// Keeps the latest `bluepill/state` of each debug session: from the proxy's custom
// events for bluepill sessions, and from the read-only tracker for Go sessions the
// proxy is not part of; and the guest watch's `bluepill/guest` summaries, with their
// timeline. Tells the view, the pane, the timeline and the status bar when it changes.
import * as vscode from 'vscode';
import { applyStateEvent, emptyState, GET_STATE_REQUEST, GUEST_EVENT, STATE_EVENT, WARNING_EVENT, type BluepillState, type BluepillStateEvent } from '../adapter/bluepill/state';
import type { GuestSummary } from '../adapter/guest/summary';
import type { GuestStopBody } from '../adapter/guest/vcpuTable';
import { GuestTimeline } from '../adapter/guest/timeline';
import { DEBUG_TYPE } from './debugType';

export interface CurrentState {
  session: vscode.DebugSession;
  state: BluepillState;
  /** Followed by the read-only tracker (e.g. vscode-go's dlv-dap): no annotations. */
  readOnly: boolean;
  /** The sandbox's guest, when the session watches it. */
  guest?: GuestView;
}

export interface GuestView {
  summary?: GuestSummary;
  /** Why the guest cannot be watched, said once. */
  error?: string;
  timeline: GuestTimeline;
  /** The Sentry's vCPU table read through dlv at the last stop, joined with the threads in KVM_RUN. */
  atStop?: GuestStopBody;
}

export class BluepillStates implements vscode.Disposable {
  private readonly states = new Map<string, BluepillState>();
  private readonly readOnly = new Set<string>();
  private readonly guests = new Map<string, GuestView>();
  private readonly changed = new vscode.EventEmitter<vscode.DebugSession | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      this.changed,
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => this.onCustomEvent(e)),
      vscode.debug.onDidTerminateDebugSession((session) => {
        this.readOnly.delete(session.id);
        this.guests.delete(session.id);
        if (this.states.delete(session.id)) this.changed.fire(session);
      }),
      vscode.debug.onDidChangeActiveDebugSession(() => this.changed.fire(undefined)),
      vscode.debug.onDidStartDebugSession((session) => {
        if (session.type !== DEBUG_TYPE) return;
        this.begin(session, false);
        // Asked once in case a stop happened before the view listened.
        session.customRequest(GET_STATE_REQUEST).then(
          (state: BluepillState) => this.update(session, state),
          () => undefined,
        );
      }),
    ];
  }

  /** Starts following a session (the read-only tracker calls this for the sessions it watches). */
  begin(session: vscode.DebugSession, readOnly: boolean): void {
    if (this.states.has(session.id)) return;
    this.states.set(session.id, emptyState());
    if (readOnly) this.readOnly.add(session.id);
    this.changed.fire(session);
  }

  /** The state of the active session, if it is followed. */
  current(): CurrentState | undefined {
    const active = vscode.debug.activeDebugSession;
    if (active && this.states.has(active.id)) return { session: active, state: this.states.get(active.id)!, readOnly: this.readOnly.has(active.id), guest: this.guests.get(active.id) };
    return undefined;
  }

  /** The latest state of a followed session, active or not. */
  of(session: vscode.DebugSession): BluepillState | undefined {
    return this.states.get(session.id);
  }

  private onCustomEvent(e: vscode.DebugSessionCustomEvent): void {
    if (e.session.type !== DEBUG_TYPE) return;
    if (e.event === STATE_EVENT) this.update(e.session, e.body as BluepillStateEvent);
    else if (e.event === GUEST_EVENT) this.updateGuest(e.session, e.body as { summary?: GuestSummary; error?: string } & GuestStopBody);
    else if (e.event === WARNING_EVENT) {
      void vscode.window.showWarningMessage(`bluepill-lens: ${(e.body as { message: string }).message}`);
    }
  }

  /** A state event (its trips only when they changed: the ones known are kept), or the whole state (getState). */
  update(session: vscode.DebugSession, state: BluepillStateEvent | BluepillState): void {
    if (!state || !this.states.has(session.id)) return;
    this.states.set(session.id, applyStateEvent(this.states.get(session.id), state));
    this.changed.fire(session);
  }

  private updateGuest(session: vscode.DebugSession, body: { summary?: GuestSummary; error?: string } & GuestStopBody): void {
    if (!body || !this.states.has(session.id)) return;
    let guest = this.guests.get(session.id);
    if (!guest) this.guests.set(session.id, (guest = { timeline: new GuestTimeline() }));
    if (body.summary) {
      guest.summary = body.summary;
      guest.timeline.add(body.summary, Date.now());
    }
    if (body.error) guest.error = body.error;
    if (body.vcpus || body.vcpuError) guest.atStop = { vcpus: body.vcpus, kvmRun: body.kvmRun, vcpuError: body.vcpuError };
    this.changed.fire(session);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
