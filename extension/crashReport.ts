// "Bluepill: Decode Crash Report": runsc's crash report in the active editor (the selection, or
// the whole document) decoded by the same reader as `bluepill-lens crash`, shown in the Explain
// panel. Addresses are named by the symbols of the session's binary, of { binary } passed by a
// script, or of a binary the user picks when offered; returns the findings (for scripts and tests).
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CrashReportReader, crashFindings, crashReportText, type CrashReport } from '../adapter/bluepill/crashReport';
import type { Diagnosis } from '../adapter/bluepill/diagnoses';
import { cachedElfFunctions, nameWithOffset } from '../adapter/elf/symbols';
import { sessionBinary, showMarkdown } from './explainPc';

export interface DecodedCrash {
  report: CrashReport;
  findings: Diagnosis[];
  binary?: string;
}

export async function decodeCrashReportCommand(arg?: { binary?: string }): Promise<DecodedCrash | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showErrorMessage('Decode Crash Report reads the active editor: open what runsc wrote to stderr when it died (its --debug-log, or the container\'s output), then run it again.');
    return undefined;
  }
  const doc = editor.document;
  const range = editor.selection.isEmpty ? undefined : editor.selection;
  const reader = new CrashReportReader();
  const last = range ? range.end.line : doc.lineCount - 1;
  for (let i = range ? range.start.line : 0; i <= last; i++) reader.line(doc.lineAt(i).text);
  const report = reader.report;
  const binary = typeof arg?.binary === 'string' && fs.existsSync(arg.binary) ? arg.binary : sessionBinary();
  let symbolFor: ((a: bigint) => string | undefined) | undefined;
  if (binary) {
    try {
      const { functions } = cachedElfFunctions(binary);
      symbolFor = (a) => nameWithOffset(functions, a);
    } catch (e) {
      void vscode.window.showWarningMessage(`Decode Crash Report: the addresses are not named: ${binary} could not be read (${(e as Error).message}).`);
    }
  }
  const findings = crashFindings(report, symbolFor);
  await showMarkdown('crash report', markdown(report, findings, binary));
  if (!binary) void offerBinary(editor);
  return { report, findings, binary };
}

/** Without a session's binary the addresses stay numbers: offer to name them by a binary the user picks. */
async function offerBinary(editor: vscode.TextEditor): Promise<void> {
  const choice = await vscode.window.showInformationMessage('Decode Crash Report: name the addresses by the symbols of the runsc that crashed?', 'Choose Binary…');
  if (choice !== 'Choose Binary…') return;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Name Addresses', title: 'The runsc (or Go program) that crashed' });
  if (!picked?.[0]) return;
  await vscode.window.showTextDocument(editor.document, { selection: editor.selection, preserveFocus: false });
  await decodeCrashReportCommand({ binary: picked[0].fsPath });
}

function markdown(report: CrashReport, findings: Diagnosis[], binary: string | undefined): string {
  const [head, ...lines] = crashReportText(report, findings).split('\n');
  const names = binary ? `Addresses named by the symbols of \`${binary}\`.` : 'Addresses are not named: choose the binary when offered, debug the runsc that crashed in a session, or run `bluepill-lens crash --binary RUNSC FILE`.';
  // "Crash report (arm64): fatal SIGSEGV at …": the title, then what the runtime saw as a paragraph.
  const colon = head.indexOf(': ');
  const title = colon > 0 ? head.slice(0, colon) : head;
  const seen = colon > 0 ? head.slice(colon + 2) : '';
  const finding = (l: string) => l.replace(/^(error|warning|info): /, (_, s: string) => `**${s[0].toUpperCase()}${s.slice(1)}:** `);
  return [`## ${escape(title)}`, '', escape(seen), '', ...lines.map((l) => `- ${finding(escape(l))}`), '', `_${names}_`].join('\n');
}

/** Markdown-inert text: the report is input from outside. */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+!<>|]/g, (c) => `\\${c}`);
}
