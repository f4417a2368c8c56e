// During a followed debug session, a status bar item shows the round trip's
// phase at the last stop; clicking it reveals the Bluepill State view.
import * as vscode from 'vscode';
import type { BluepillStates } from './bluepillStates';

export const STATE_VIEW_ID = 'bluepill.state';

export function phaseStatusBar(states: BluepillStates): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('bluepill.phase', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Bluepill Phase';
  item.command = { command: `${STATE_VIEW_ID}.focus`, title: 'Show the Bluepill State view' };
  const refresh = () => {
    const current = states.current();
    if (!current) return item.hide();
    const { state, readOnly } = current;
    const stop = state.stop;
    const phase = stop ? stop.phaseTitle : state.ended ? 'session ended' : 'waiting for a stop';
    item.text = `${stop?.phase === 'in-guest' ? '$(vm)' : '$(server-process)'} Bluepill: ${phase}${state.running && stop ? ' (last stop)' : ''}`;
    const md = new vscode.MarkdownString(stop ? `**${stop.phaseTitle}** at \`${stop.pc}\` ${stop.symbol}\n\n${stop.because}.` : 'The phase appears at the next stop.');
    md.appendMarkdown(`\n\n${readOnly ? `Read-only (a "${current.session.type}" session): annotations need the bluepill debug type.\n\n` : ''}Click to open the Bluepill State view.`);
    item.tooltip = md;
    item.show();
  };
  const sub = states.onDidChange(refresh);
  refresh();
  return vscode.Disposable.from(item, sub);
}
