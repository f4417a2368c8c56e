// Prints demo/.vscode/settings.json for this clone (scripts/start.sh and the VS Code
// tests write it): the pinned dlv, and quick open (Ctrl+P) that also finds the built
// files under demo/bin/, which demo/.gitignore keeps out of git but the README tells
// users to open (the listing, the binaries).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const settings = {
  'bluepill.dlvPath': path.join(root, 'tools', 'bin', 'dlv'),
  'search.useIgnoreFiles': false,
};
process.stdout.write(`${JSON.stringify(settings, null, 2)}\n`);
