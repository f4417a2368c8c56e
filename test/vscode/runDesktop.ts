// `npm run test:desktop`: the same extension-host mocha suite (suite/index.ts)
// in desktop VS Code through @vscode/test-electron, for a machine that can
// download VS Code (these build machines cannot; they use vscode.test.ts).
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const REPO_ROOT = path.resolve(__dirname, '../../..');

runTests({
  extensionDevelopmentPath: REPO_ROOT,
  extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
  launchArgs: [path.join(REPO_ROOT, 'demo'), '--disable-extensions', '--disable-workspace-trust'],
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
