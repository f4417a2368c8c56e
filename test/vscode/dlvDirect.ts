// Installs the dlv-direct test extension (test/vscode/dlvDirect/): a debug type that
// points VS Code straight at `dlv dap`, as vscode-go does. vscode-go itself cannot be
// installed here (no marketplace), and a second development extension cannot be
// loaded next to bluepill-lens (see host.ts), so it goes in as a .vsix, as a user's would.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { installExtension, REPO_ROOT, VSCODE_TEST_DIR } from './host';

export const DLV_DIRECT_ID = 'bluepill-lens-tests.dlv-direct';

export function installDlvDirect(): void {
  const vsix = path.join(VSCODE_TEST_DIR, 'dlv-direct.vsix');
  const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
  execFileSync(vsce, ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', vsix], {
    cwd: path.join(REPO_ROOT, 'test', 'vscode', 'dlvDirect'), stdio: ['ignore', 'ignore', 2], timeout: 120_000,
  });
  installExtension(vsix);
}
