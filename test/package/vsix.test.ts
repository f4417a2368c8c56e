// `npm run package` makes a .vsix holding the bundles and manifest, and none of the
// sources, tests or node_modules.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../support/paths';

describe('npm run package', () => {
  it('makes a .vsix with the bundles and nothing else of the repository', () => {
    execFileSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    const listing = execFileSync('unzip', ['-Z1', path.join(repoRoot, 'dist', 'bluepill-lens.vsix')], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const needed of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/adapter.js']) {
      assert.ok(listing.includes(needed), `${needed} in ${listing.join(', ')}`);
    }
    const leaked = listing.filter((f) => /node_modules|\.ts$|\/test\/|\/adapter\/|\/tools\/|\.map$/.test(f));
    assert.deepEqual(leaked, []);
    // The packaged CLI runs on its own.
    const help = execFileSync('node', [path.join(repoRoot, 'dist', 'cli.js'), 'help'], { encoding: 'utf8' });
    assert.match(help, /bluepill-lens <command>/);
  });
});
