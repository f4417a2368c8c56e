// Hovers in go-objdump documents: a raw MRS/MSR operand ($18052, S3_0_C13_C0_4)
// shows the register's name, encoding fields, access level and description.
import * as vscode from 'vscode';
import { sysregOperandAt } from '../adapter/arm64/operandAt';
import { sysregMarkdown } from '../adapter/arm64/sysregMarkdown';

export const GO_OBJDUMP = 'go-objdump';

export class ObjdumpHoverProvider implements vscode.HoverProvider {
  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const line = document.lineAt(position.line).text;
    const operand = sysregOperandAt(line, position.character);
    if (!operand) return undefined;
    const range = new vscode.Range(position.line, operand.start, position.line, operand.end);
    return new vscode.Hover(new vscode.MarkdownString(sysregMarkdown(operand.field, operand.direction, operand.text)), range);
  }
}
