// "Bluepill: Explain This PC": the PC of the focused stack frame, else the address
// under the cursor in a go-objdump document, else one the user types (or a script
// passes as { address }). A typed address is explained by what already names the
// program: the session, an open listing, the session's binary; only with none of
// them is a binary asked for. Shows the explanation in one panel beside the editor,
// replaced by the next one, and returns it (for scripts and tests).
// "Bluepill: Explain Address in Binary..." does the same offline for a picked ELF.
import * as vscode from 'vscode';
import { explain, explanationMarkdown, type Explanation } from '../adapter/explain/explain';
import { factsFromBinary } from '../adapter/explain/fromElf';
import { looksArm64, parseInstructionLine } from '../adapter/explain/listing';
import { EXPLAIN_REQUEST } from '../adapter/hooks/bluepill/explainRequest';
import { namedProgram } from '../adapter/config/launchArgs';
import { DEBUG_TYPE } from './debugType';
import { GO_OBJDUMP } from './objdumpHover';
import { indexFor } from './listingIndexes';
import { readOnlyObserver } from './readOnlySessions';

/** Command arguments: VS Code passes the Call Stack item when run from its context menu; a script may pass { address }. */
export async function explainPc(arg?: unknown): Promise<Explanation | undefined> {
  try {
    const given = addressOf(arg);
    const explanation = given
      ? await explainTypedAddress(given)
      : (await fromDebugSession(arg)) ?? (await fromObjdumpEditor()) ?? (await fromInputBox());
    if (explanation) await show(explanation);
    return explanation;
  } catch (e) {
    void vscode.window.showErrorMessage(`bluepill-lens: ${(e as Error).message}`);
    return undefined;
  }
}

export const HEX_ADDRESS = /^(0x)?[0-9a-f]{1,16}$/i;

function addressOf(arg: unknown): string | undefined {
  const a = (arg as { address?: unknown } | undefined)?.address;
  if (typeof a !== 'string') return undefined;
  if (!HEX_ADDRESS.test(a.trim())) throw new Error(`"${a}" is not an address: write it in hex, e.g. 0x95c6d8.`);
  return hexAddress(a);
}

/** A hex address as typed ("95c6d8" or " 0x95c6d8") with exactly one 0x in front. */
export function hexAddress(text: string): string {
  return `0x${text.trim().replace(/^0x/i, '')}`;
}

/** Asks the active session: the proxy of a bluepill session, or the read-only tracker of a Go one. */
export async function inSession(args: { frameId?: number; address?: string }): Promise<Explanation | undefined> {
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
  return (await inSession({ address: `0x${address.toString(16)}` })) ?? fromListing(doc, address, false);
}

/** An address explained from a go-objdump document's index: its block, line and instruction. */
async function fromListing(doc: vscode.TextDocument, address: bigint, onlyIfListed = true): Promise<Explanation | undefined> {
  const index = await indexFor(doc);
  const block = index.blockAt(Number(address));
  if (!block && onlyIfListed) return undefined;
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

/** The binary the active session debugs, when this machine has it (a launch's program). */
export function sessionBinary(): string | undefined {
  return namedProgram(vscode.debug.activeDebugSession?.configuration);
}

/** A typed address: the session, then an open listing that has it, then the session's binary, then ask. */
export async function explainTypedAddress(address: string): Promise<Explanation | undefined> {
  const live = await inSession({ address });
  if (live) return live;
  for (const doc of vscode.workspace.textDocuments.filter((d) => d.languageId === GO_OBJDUMP)) {
    const fromDoc = await fromListing(doc, BigInt(address));
    if (fromDoc) return fromDoc;
  }
  const binary = sessionBinary();
  if (binary) return explain(factsFromBinary(binary, BigInt(address)));
  return explanationFromPickedBinary(address);
}

async function fromInputBox(): Promise<Explanation | undefined> {
  const address = await askHexAddress('Explain This PC', 'An address, in hex (0x optional)', '0x95c6d8');
  return address ? explainTypedAddress(address) : undefined;
}

/** An address typed into an input box, checked as it is typed; normalised, or undefined if dismissed. */
export async function askHexAddress(title: string, prompt: string, example: string): Promise<string | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    prompt,
    placeHolder: example,
    ignoreFocusOut: true,
    validateInput: (v) => (HEX_ADDRESS.test(v.trim()) ? undefined : `Write the address in hex, e.g. ${example} or ${example.slice(2)}.`),
  });
  return text ? hexAddress(text) : undefined;
}

/** "Explain Address in Binary...": offline, an address in an ELF binary the user picks (e.g. runsc). */
export async function explainInPickedBinary(): Promise<Explanation | undefined> {
  const explanation = await explanationFromPickedBinary();
  if (explanation) await show(explanation);
  return explanation;
}

async function explanationFromPickedBinary(address?: string): Promise<Explanation | undefined> {
  const picked = await vscode.window.showOpenDialog({ title: `Explain ${address ?? 'an address'} in which binary?`, canSelectMany: false, openLabel: 'Use this binary' });
  if (!picked?.[0]) return undefined;
  const addr = address ?? (await vscode.window.showInputBox({ title: 'Explain address', prompt: 'An address in hex', ignoreFocusOut: true, validateInput: (v) => (HEX_ADDRESS.test(v.trim()) ? undefined : 'Write the address in hex.') }));
  if (!addr) return undefined;
  return explain(factsFromBinary(picked[0].fsPath, BigInt(hexAddress(addr))));
}

/**
 * One explanation panel, beside the editor: the next explanation replaces its content
 * where it is. The Markdown is rendered by VS Code's own Markdown extension, so it looks
 * like any Markdown preview.
 */
let panel: vscode.WebviewPanel | undefined;

async function show(e: Explanation): Promise<void> {
  await showMarkdown(e.address, explanationMarkdown(e));
}

/** Shows Markdown in the one Explain panel, titled "Explain ADDRESS" (also used by Explain This Address). */
export async function showMarkdown(address: string, markdown: string): Promise<void> {
  const body = await vscode.commands.executeCommand<string>('markdown.api.render', markdown);
  if (!panel) {
    panel = vscode.window.createWebviewPanel('bluepill.explain', '', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false, enableFindWidget: true });
    panel.onDidDispose(() => (panel = undefined));
  } else {
    panel.reveal(panel.viewColumn, true);
  }
  panel.title = `Explain ${address}`;
  panel.webview.html = page(panel.webview, body);
}

function page(webview: vscode.Webview, body: string): string {
  // Nothing runs in the page: no scripts, styles only from the page itself.
  const csp = `default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; img-src ${webview.cspSource};`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<style>body{font-family:var(--vscode-markdown-font-family,var(--vscode-font-family));font-size:var(--vscode-markdown-font-size,14px);line-height:1.6;padding:0 20px;color:var(--vscode-foreground)}
code{font-family:var(--vscode-editor-font-family)}pre{background:var(--vscode-textCodeBlock-background);padding:8px;overflow-x:auto}
table{border-collapse:collapse}td,th{border:1px solid var(--vscode-panel-border);padding:2px 8px}</style></head>
<body>${body}</body></html>`;
}
