// The "Guest Timeline" webview beside the Bluepill State view: one lane per vCPU thread
// (time in the guest, exits by reason, failed page walks) and the round trips of the state
// view on the same time axis. The drawing is adapter/guest/timeline.ts's SVG; this file only
// shows it, at most once a second, and only while the view is visible.
import * as vscode from 'vscode';
import { escapeMarkup, timelineSvg } from '../adapter/guest/timeline';
import type { BluepillStates } from './bluepillStates';

export const TIMELINE_VIEW_ID = 'bluepill.timeline';
/** The axis spans what was traced, from 10 s up to the last minute, so the lanes fill the width. */
function spanOf(samples: readonly { time: number; intervalMs: number }[], now: number): number {
  const first = samples.length ? samples[0].time - samples[0].intervalMs : now;
  return Math.min(60_000, Math.max(10_000, now - first));
}

export function registerTimelineView(states: BluepillStates): vscode.Disposable {
  let view: vscode.WebviewView | undefined;
  let pending: NodeJS.Timeout | undefined;
  const draw = () => {
    pending = undefined;
    if (!view?.visible) return;
    const current = states.current();
    const samples = current?.guest?.timeline.samples() ?? [];
    const trips = current?.state.trips ?? [];
    const now = samples.length ? samples[samples.length - 1].time : Date.now();
    const body = !current
      ? '<p>The timeline fills in during a debug session attached to a sandbox.</p>'
      : current.guest?.error && !samples.length
        ? `<p>${escapeMarkup(current.guest.error)}</p>`
        : timelineSvg(samples, trips, { width: 900, now, spanMs: spanOf(samples, now) });
    view.webview.html = page(view.webview, body);
  };
  const schedule = () => {
    if (!pending) pending = setTimeout(draw, 1000);
  };
  const provider: vscode.WebviewViewProvider = {
    resolveWebviewView(v) {
      view = v;
      v.webview.options = { enableScripts: false };
      v.onDidChangeVisibility(draw);
      v.onDidDispose(() => (view = undefined));
      draw();
    },
  };
  return vscode.Disposable.from(
    vscode.window.registerWebviewViewProvider(TIMELINE_VIEW_ID, provider),
    states.onDidChange(schedule),
    { dispose: () => pending && clearTimeout(pending) },
  );
}

function page(webview: vscode.Webview, body: string): string {
  const csp = `default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline';`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<style>body{color:var(--vscode-foreground);font-family:var(--vscode-font-family);padding:4px 8px}svg{max-width:100%;height:auto;color:var(--vscode-foreground)}</style>
</head><body>${body}</body></html>`;
}
