// Hovers in go-objdump documents: a raw MRS/MSR operand ($18052, S3_0_C13_C0_4)
// shows the register (name, encoding fields, access level, description); an
// address shows its function + offset and its role in the bluepill round trip.
import * as vscode from 'vscode';
import { describe, hoverTargetAt } from '../adapter/explain/objdumpHover';
import { indexFor } from './listingIndexes';

export const GO_OBJDUMP = 'go-objdump';

export class ObjdumpHoverProvider implements vscode.HoverProvider {
  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const target = hoverTargetAt(document.lineAt(position.line).text, position.character);
    // The listing is indexed only when the cursor is on an address.
    const hover = target && 'address' in target ? describe(target, await indexFor(document)) : target;
    if (!hover) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(hover.markdown), new vscode.Range(position.line, hover.start, position.line, hover.end));
  }
}
