// Runs node:test files under the given folders (Node 20 has no --test globs),
// one file at a time: the adapter and VS Code suites share one dlv and one machine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const files = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (entry.name.endsWith('.test.js')) files.push(p);
  }
};
for (const dir of process.argv.slice(2)) {
  if (!fs.existsSync(dir)) continue;
  if (fs.statSync(dir).isDirectory()) walk(dir);
  else files.push(dir); // a single test file
}
if (files.length === 0) {
  console.error(`no *.test.js under ${process.argv.slice(2).join(' ')}`);
  process.exit(1);
}
files.sort();
// Says why a file failed as a whole; spec alone prints only "test failed" for it.
const summaryReporter = new URL('./failure-summary.mjs', import.meta.url).href;
// A hung test fails after 5 minutes instead of holding the whole run.
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', '--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${summaryReporter}`, '--test-reporter-destination=stdout', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
