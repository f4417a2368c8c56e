// One ListingIndex per go-objdump document version, built on first use and in
// slices, so a large listing never stalls the extension host for long.
import * as vscode from 'vscode';
import { ListingIndex, type LineSource } from '../adapter/explain/listingIndex';

const cache = new Map<string, { version: number; index: Promise<ListingIndex> }>();

export function lineSource(document: vscode.TextDocument): LineSource {
  return { lineCount: document.lineCount, lineAt: (n) => document.lineAt(n).text };
}

export function indexFor(document: vscode.TextDocument): Promise<ListingIndex> {
  const key = document.uri.toString();
  const hit = cache.get(key);
  if (hit && hit.version === document.version) return hit.index;
  const index = ListingIndex.build(lineSource(document));
  cache.set(key, { version: document.version, index });
  return index;
}

export function forgetIndex(document: vscode.TextDocument): void {
  cache.delete(document.uri.toString());
}
