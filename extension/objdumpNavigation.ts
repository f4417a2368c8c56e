// The Outline / Go to Symbol (every TEXT block) and Go to Definition (a CALL/BL/B
// target, by symbol or by address) for go-objdump documents.
import * as vscode from 'vscode';
import { indexFor, lineSource } from './listingIndexes';

export class ObjdumpSymbolProvider implements vscode.DocumentSymbolProvider {
  async provideDocumentSymbols(document: vscode.TextDocument): Promise<vscode.DocumentSymbol[]> {
    const index = await indexFor(document);
    return index.blocks.map((b) => {
      const range = new vscode.Range(b.headerLine, 0, b.lastLine, document.lineAt(b.lastLine).text.length);
      const header = document.lineAt(b.headerLine).range;
      const detail = b.firstAddress !== undefined ? `0x${b.firstAddress.toString(16)}` : '';
      return new vscode.DocumentSymbol(b.name, detail, vscode.SymbolKind.Function, range, header);
    });
  }
}

const SYMBOL_TARGET = /([\w./*()·-]+)\(SB\)/;
const ADDRESS_TARGET = /0x[0-9a-fA-F]+/;

export class ObjdumpDefinitionProvider implements vscode.DefinitionProvider {
  async provideDefinition(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Location | undefined> {
    const line = document.lineAt(position.line).text;
    if (!/\b(CALL|BL|B|JMP|B\.\w+|J\w+|CBZ|CBNZ|TBZ|TBNZ)\b/.test(line)) return undefined;
    const index = await indexFor(document);
    const symbolRange = document.getWordRangeAtPosition(position, new RegExp(SYMBOL_TARGET.source));
    if (symbolRange) {
      const name = SYMBOL_TARGET.exec(document.getText(symbolRange))![1];
      const block = index.blockNamed(name);
      return block ? new vscode.Location(document.uri, new vscode.Position(block.headerLine, 0)) : undefined;
    }
    const addressRange = document.getWordRangeAtPosition(position, ADDRESS_TARGET);
    if (addressRange) {
      const target = index.lineOf(Number(document.getText(addressRange)), lineSource(document));
      return target !== undefined ? new vscode.Location(document.uri, new vscode.Position(target, 0)) : undefined;
    }
    return undefined;
  }
}
