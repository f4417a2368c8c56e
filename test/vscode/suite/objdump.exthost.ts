// The go-objdump language in the real VS Code, on the demo's listing of
// minibluepill built for arm64 (demo/bin/minibluepill-arm64.objdump, made by
// prepareDemo / start.sh): hover, outline, Go to Definition, Explain This PC.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { until } from './poll';

const listing = () => vscode.Uri.file(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'bin', 'minibluepill-arm64.objdump'));

async function open(): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(listing());
  await vscode.window.showTextDocument(doc);
  return doc;
}

function find(doc: vscode.TextDocument, needle: string | RegExp): vscode.Position {
  for (let n = 0; n < doc.lineCount; n++) {
    const text = doc.lineAt(n).text;
    const at = typeof needle === 'string' ? text.indexOf(needle) : text.search(needle);
    if (at >= 0) return new vscode.Position(n, at);
  }
  throw new Error(`${needle} not in ${doc.uri.fsPath}`);
}

const hoverText = (hovers: vscode.Hover[]) => hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');

suite('go-objdump documents', () => {
  test('*.objdump opens as go-objdump', async () => {
    const doc = await open();
    assert.equal(doc.languageId, 'go-objdump');
  });

  test('hovering $18052 shows TPIDR_EL1 with its fields and access level', async () => {
    const doc = await open();
    const at = find(doc, '$18052').translate(0, 2);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at));
    assert.match(text, /\*\*TPIDR_EL1\*\* \(read with MRS\)/);
    assert.match(text, /op0 3 · op1 0 · CRn 13 · CRm 0 · op2 4/);
    assert.match(text, /EL1 only: traps at EL0 \(SIGILL\)/);
  });

  test('hovering an address names its function and bluepill role', async () => {
    const doc = await open();
    const header = find(doc, /^TEXT minibluepill\/kvm\.sighandler/);
    const line = doc.lineAt(header.line + 1).text.includes('0x') ? header.line + 1 : header.line + 2;
    const col = doc.lineAt(line).text.indexOf('0x') + 3;
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(line, col)));
    assert.match(text, /\*\*minibluepill\/kvm\.sighandler\*\*/);
    assert.match(text, /Bluepill: \*\*sighandler\*\*, phase \*trapped\*/);
  });

  test('every TEXT block is in the outline', async () => {
    const doc = await open();
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', doc.uri);
    const texts = doc.getText().split('\n').filter((l) => l.startsWith('TEXT ')).length;
    assert.equal(symbols.length, texts);
    assert.ok(symbols.some((s) => s.name === 'minibluepill/kvm.bluepillHandler'));
  });

  test('Go to Definition on a CALL target jumps to its TEXT block', async () => {
    const doc = await open();
    const call = find(doc, /CALL minibluepill\/kvm\.bluepillGuestExit\(SB\)/);
    const at = call.translate(0, 'CALL minibluepill/kvm.'.length + 2);
    const locations = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeDefinitionProvider', doc.uri, at);
    assert.equal(locations.length, 1);
    assert.match(doc.lineAt(locations[0].range.start.line).text, /^TEXT minibluepill\/kvm\.bluepillGuestExit\(SB\)/);
  });

  test('Explain This PC with the cursor on the trapping MRS', async () => {
    const doc = await open();
    const editor = vscode.window.activeTextEditor!;
    const at = find(doc, 'MRS $18052, R10');
    editor.selection = new vscode.Selection(at, at);
    const e = await vscode.commands.executeCommand<{ where: string; landmark?: { role: string; phase: string }; sysreg?: { name: string } }>('bluepill.explainPc');
    assert.equal(e.where.startsWith('minibluepill/kvm.bluepill'), true, e.where);
    assert.equal(e.sysreg?.name, 'TPIDR_EL1');
    assert.equal(e.landmark?.role, 'trap-instruction');
    assert.equal(e.landmark?.phase, 'entering');
  });

  test('Explain This PC with a typed address: the open listing answers it, no binary is asked for, one preview is shown', async () => {
    const doc = await open();
    const mrs = find(doc, 'MRS $18052, R10');
    const address = /0x[0-9a-f]+/.exec(doc.lineAt(mrs.line).text)![0];
    // The listing is open but not the active editor (a source file is): it still names the program.
    const main = await vscode.workspace.openTextDocument(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'main.go'));
    await vscode.window.showTextDocument(main);
    const groups: number[] = [];
    for (let n = 0; n < 2; n++) {
      // A file dialog in the test host is refused, so asking for a binary would fail this call.
      const e = await vscode.commands.executeCommand<{ where: string; origin: string; sysreg?: { name: string } } | undefined>('bluepill.explainPc', { address });
      assert.ok(e, 'explained without asking for a binary');
      assert.match(e.origin, /the listing .*minibluepill-arm64\.objdump/);
      assert.equal(e.sysreg?.name, 'TPIDR_EL1');
      groups.push(vscode.window.tabGroups.all.length);
    }
    // The preview's tab appears once its webview is up.
    const labels = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).filter((l) => l.includes('Explain'));
    await until(() => labels().length > 0 || undefined, 'the explanation preview tab');
    assert.deepEqual(labels(), [`Explain ${address}`], 'one explanation panel, reused');
    assert.equal(groups[1], groups[0], 'the second explanation opened no new editor group');
  });

});
