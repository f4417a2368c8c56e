// "Bluepill: Explain This PC": the PC of the focused stack frame, else the address
// under the cursor in a go-objdump document, else one the user types. Shows the
// explanation as Markdown beside the editor and returns it (for scripts and tests).
// "Bluepill: Explain Address in Binary..." does the same offline for a picked ELF.
import * as vscode from 'vscode';
import { explain, explanationMarkdown, type Explanation } from '../adapter/explain/explain';
import { factsFromBinary } from '../adapter/explain/fromElf';
import { looksArm64, parseInstructionLine } from '../adapter/explain/listing';
import { EXPLAIN_REQUEST } from '../adapter/hooks/bluepill/explainRequest';
import { DEBUG_TYPE } from './debugType';
import { GO_OBJDUMP } from './objdumpHover';
import { indexFor } from './listingIndexes';
import { readOnlyObserver } from './readOnlySessions';

export const EXPLAIN_SCHEME = 'bluepill-explain';
const pages = new Map<string, string>();
const changed = new vscode.EventEmitter<vscode.Uri>();

export const explanationPages: vscode.TextDocumentContentProvider = {
  onDidChange: changed.event,
  provideTextDocumentContent: (uri) => pages.get(uri.toString()) ?? '',
};

/** Command arguments: VS Code passes the Call Stack item when run from its context menu. */
export async function explainPc(arg?: unknown): Promise<Explanation | undefined> {
  try {
    const explanation = (await fromDebugSession(arg)) ?? (await fromObjdumpEditor()) ?? (await fromInputBox());
    if (explanation) await show(explanation);
    return explanation;
  } catch (e) {
    void vscode.window.showErrorMessage(`bluepill-lens: ${(e as Error).message}`);
    return undefined;
  }
}

/** Asks the active session: the proxy of a bluepill session, or the read-only tracker of a Go one. */
async function inSession(args: { frameId?: number; address?: string }): Promise<Explanation | undefined> {
  const session = vscode.debug.activeDebugSession;
  if (session?.type === DEBUG_TYPE) return (await session.customRequest(EXPLAIN_REQUEST, args)) as Explanation;
  return readOnlyObserver(session)?.explain(args);
}

async function fromDebugSession(arg: unknown): Promise<Explanation | undefined> {
  const session = vscode.debug.activeDebugSession;
  if (!session || (session.type !== DEBUG_TYPE && !readOnlyObserver(session))) return undefined;
  const frameId = frameIdOf(arg) ?? frameIdOf(vscode.debug.activeStackItem);
  if (frameId === undefined) return undefined;
  return inSession({ frameId });
}

function frameIdOf(item: unknown): number | undefined {
  if (item instanceof vscode.DebugStackFrame) return item.frameId;
  const id = (item as { frameId?: unknown } | undefined)?.frameId;
  return typeof id === 'number' ? id : undefined;
}

async function fromObjdumpEditor(): Promise<Explanation | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== GO_OBJDUMP) return undefined;
  const doc = editor.document;
  const position = editor.selection.active;
  const word = doc.getWordRangeAtPosition(position, /0x[0-9a-fA-F]+/);
  const lineAddress = parseInstructionLine(doc.lineAt(position.line).text)?.address;
  const address = word ? BigInt(doc.getText(word)) : lineAddress;
  if (address === undefined) return undefined;
  const live = await inSession({ address: `0x${address.toString(16)}` });
  if (live) return live;
  const index = await indexFor(doc);
  const block = index.blockAt(Number(address));
  const line = index.lineOf(Number(address), { lineCount: doc.lineCount, lineAt: (n) => doc.lineAt(n).text });
  const ins = line !== undefined ? parseInstructionLine(doc.lineAt(line).text) : undefined;
  return explain({
    address,
    arch: ins && looksArm64(ins) ? 'arm64' : 'amd64',
    symbol: block?.name,
    offset: block?.firstAddress !== undefined ? address - BigInt(block.firstAddress) : undefined,
    source: ins?.location,
    instruction: ins ? { text: ins.text } : undefined,
    origin: `the listing ${doc.uri.fsPath || doc.uri.toString()}`,
  });
}

async function fromInputBox(): Promise<Explanation | undefined> {
  const text = await vscode.window.showInputBox({
    title: 'Explain This PC',
    prompt: 'An address, in hex (0x optional)',
    placeHolder: '0x95c6d8',
    validateInput: (v) => (/^(0x)?[0-9a-f]{1,16}$/i.test(v.trim()) ? undefined : 'Write the address in hex, e.g. 0x95c6d8 or 95c6d8.'),
  });
  if (!text) return undefined;
  const address = `0x${text.trim().replace(/^0x/i, '')}`;
  return (await inSession({ address })) ?? explainInPickedBinary(address);
}

/** Offline: an address in an ELF binary the user picks (e.g. runsc). */
export async function explainInPickedBinary(address?: string): Promise<Explanation | undefined> {
  const picked = await vscode.window.showOpenDialog({ title: 'Explain an address in which binary?', canSelectMany: false, openLabel: 'Use this binary' });
  if (!picked?.[0]) return undefined;
  const addr = address ?? (await vscode.window.showInputBox({ title: 'Explain address', prompt: 'An address in hex', validateInput: (v) => (/^(0x)?[0-9a-f]{1,16}$/i.test(v.trim()) ? undefined : 'Write the address in hex.') }));
  if (!addr) return undefined;
  const explanation = explain(factsFromBinary(picked[0].fsPath, BigInt(`0x${addr.trim().replace(/^0x/i, '')}`)));
  await show(explanation);
  return explanation;
}

async function show(e: Explanation): Promise<void> {
  const uri = vscode.Uri.parse(`${EXPLAIN_SCHEME}:/Explain ${e.address}.md`);
  pages.set(uri.toString(), explanationMarkdown(e));
  changed.fire(uri);
  await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
}
