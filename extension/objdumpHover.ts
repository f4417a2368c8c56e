// Hovers in go-objdump documents: a raw MRS/MSR operand ($18052, S3_0_C13_C0_4)
// shows the register (name, encoding fields, access level, description); an
// address shows its function + offset and its role in the bluepill round trip.
import * as vscode from 'vscode';
import { sysregOperandAt } from '../adapter/arm64/operandAt';
import { sysregMarkdown } from '../adapter/arm64/sysregMarkdown';
import { addressMarkdown } from '../adapter/explain/addressInfo';
import { indexFor } from './listingIndexes';

export const GO_OBJDUMP = 'go-objdump';

export class ObjdumpHoverProvider implements vscode.HoverProvider {
  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const line = document.lineAt(position.line).text;
    const operand = sysregOperandAt(line, position.character);
    if (operand) {
      const range = new vscode.Range(position.line, operand.start, position.line, operand.end);
      return new vscode.Hover(new vscode.MarkdownString(sysregMarkdown(operand.field, operand.direction, operand.text)), range);
    }
    const range = document.getWordRangeAtPosition(position, /0x[0-9a-fA-F]+/);
    if (!range) return undefined;
    const index = await indexFor(document);
    const md = addressMarkdown(index, Number(document.getText(range)));
    return md ? new vscode.Hover(new vscode.MarkdownString(md), range) : undefined;
  }
}
