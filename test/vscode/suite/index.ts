// Mocha runner loaded by VS Code's extension host (the workbench URL's
// extensionTestsPath). It runs the *.exthost.js files next to it; they are not
// named *.test.js because scripts/run-node-tests.mjs runs those under plain
// Node, where `vscode` does not exist. VS Code calls run() and reports its outcome through
// codeAutomationExit: resolve = exit code 0, reject = 1. Host-agnostic, so the
// same suite also runs under @vscode/test-electron on a desktop.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 20_000 });
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.exthost.js')).sort();
  // No test files means a broken build, not a pass.
  if (files.length === 0) return Promise.reject(new Error(`no *.exthost.js files in ${__dirname}`));
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) =>
      failures > 0 ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve());
  });
}
