// Where the tests find the repository, the pinned dlv and the built bundles.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Compiled tests live in out/test/...; sources in test/... Both sit two or three levels below the root. */
export const repoRoot = findRoot(__dirname);

export const DLV_VERSION = 'v1.27.2';
export const dlvPath = path.join(repoRoot, 'tools', 'bin', 'dlv');
export const adapterBundle = path.join(repoRoot, 'dist', 'adapter.js');
export const cliBundle = path.join(repoRoot, 'dist', 'cli.js');

/** Builds the pinned dlv into tools/bin if scripts/test.sh has not already. */
export function ensureDlv(): string {
  if (!fs.existsSync(dlvPath)) {
    execFileSync('go', ['install', `github.com/go-delve/delve/cmd/dlv@${DLV_VERSION}`], {
      env: { ...process.env, GOBIN: path.dirname(dlvPath) },
      stdio: 'inherit',
    });
  }
  return dlvPath;
}

export function ensureBundles(): void {
  if (!fs.existsSync(adapterBundle)) throw new Error(`${adapterBundle} is missing: run \`npm run build\` first.`);
}

function findRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'out') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}
