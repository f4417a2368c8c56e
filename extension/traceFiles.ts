// DAP trace files (setting bluepill.trace) and "Bluepill: Open DAP Trace". Each
// bluepill session writes its own file into the extension's log folder, next to
// the log channel's file, so a bug report can attach both.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TraceFile } from '../adapter/dap/traceFile';
import { traceEnabled } from './settings';

export const OPEN_TRACE_COMMAND = 'bluepill.openTrace';

export class TraceFiles {
  private latest: string | undefined;

  constructor(private readonly folder: vscode.Uri, private readonly log: vscode.LogOutputChannel) {}

  /** A trace for this session when bluepill.trace is on; undefined (and a logged reason) otherwise. */
  start(session: vscode.DebugSession): TraceFile | undefined {
    if (!traceEnabled(session.workspaceFolder)) return undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = session.name.replace(/[^\w.-]+/g, '_').slice(0, 40);
    const file = path.join(this.folder.fsPath, `dap-trace-${stamp}-${name}.jsonl`);
    try {
      const trace = new TraceFile(file, (message) => this.log.warn(message));
      this.latest = file;
      this.log.info(`session "${session.name}": DAP trace in ${file} (environment variables are redacted)`);
      return trace;
    } catch (e) {
      this.log.error((e as Error).message);
      void vscode.window.showWarningMessage(`bluepill-lens: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The newest trace file: this window's, else the newest one in the folder. */
  newest(): string | undefined {
    if (this.latest && fs.existsSync(this.latest)) return this.latest;
    let files: string[] = [];
    try {
      files = fs.readdirSync(this.folder.fsPath).filter((f) => /^dap-trace-.*\.jsonl$/.test(f)).sort();
    } catch {
      return undefined;
    }
    return files.length ? path.join(this.folder.fsPath, files[files.length - 1]) : undefined;
  }

  async open(): Promise<string | undefined> {
    const file = this.newest();
    if (!file) {
      const choice = await vscode.window.showInformationMessage(
        'bluepill-lens: no DAP trace yet. Turn on the setting bluepill.trace, start a bluepill debug session, then run "Bluepill: Open DAP Trace" again.',
        'Open Setting',
      );
      if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'bluepill.trace');
      return undefined;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    return file;
  }
}
