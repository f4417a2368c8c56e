// Opens an address as a disassembly document (go-objdump language, so system
// registers get their hovers): the proxy's own annotated `disassemble` answer,
// around the address, with the line of the address selected. VS Code's own
// Disassembly view opens only at a stack frame, so it is used when the address is one.
import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';

export const OPEN_ADDRESS_COMMAND = 'bluepill.openAddress';
export const DISASM_SCHEME = 'bluepill-disasm';
const BEFORE = 16;
const COUNT = 64;

export class AddressDocumentProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const addr = uri.path.replace(/\.objdump$/, '').replace(/^\//, '');
    const session = vscode.debug.activeDebugSession;
    if (!session) return `// ${addr}: no debug session is active; start one to disassemble live memory.\n`;
    try {
      const body = (await session.customRequest('disassemble', { memoryReference: addr, instructionOffset: -BEFORE, instructionCount: COUNT, resolveSymbols: true })) as DebugProtocol.DisassembleResponse['body'];
      const lines = [`// disassembly around ${addr} (${session.name})`];
      for (const ins of body?.instructions ?? []) {
        if (/^0x0+$|^0xf{16}$/.test(ins.address)) continue; // padding dlv returns outside code
        const here = BigInt(ins.address) === BigInt(addr) ? '=>' : '  ';
        const where = ins.location?.path ? `${ins.location.path.split('/').pop()}:${ins.line ?? ''}` : '';
        lines.push(`${here}\t${where}\t${ins.address}\t${ins.instructionBytes ?? ''}\t${ins.instruction}`);
      }
      return lines.join('\n') + '\n';
    } catch (e) {
      return `// ${addr}: ${(e as Error).message}\n`;
    }
  }
}

export async function openAddress(addr: string): Promise<void> {
  const uri = vscode.Uri.parse(`${DISASM_SCHEME}:/${addr}.objdump`);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'go-objdump');
  const editor = await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Active });
  const line = doc.getText().split('\n').findIndex((l) => l.startsWith('=>'));
  if (line >= 0) {
    editor.selection = new vscode.Selection(line, 0, line, doc.lineAt(line).text.length);
    editor.revealRange(editor.selection, vscode.TextEditorRevealType.InCenter);
  }
}
