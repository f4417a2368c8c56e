// `npm pack` makes the CLI's npm package: built by prepack, holding the CLI bundle (with its
// source map and notices) and nothing else of the repository; `npm install -g` of it puts a working bluepill-lens on PATH.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { repoRoot } from '../support/paths';

describe('npm pack: the CLI on PATH', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-cli-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('packs only the CLI bundle, and the installed bluepill-lens runs from PATH', () => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.deepEqual(packed[0].files.map((f: { path: string }) => f.path).sort(), ['LICENSE', 'NOTICE', 'README.md', 'dist/ThirdPartyNotices.txt', 'dist/cli.js', 'dist/cli.js.map', 'package.json']);
    const prefix = path.join(tmp, 'prefix');
    execFileSync('npm', ['install', '--global', '--offline', '--prefix', prefix, path.join(tmp, packed[0].filename)], { stdio: 'ignore' });
    const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin` };
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const v = spawnSync('bluepill-lens', ['--version'], { env, encoding: 'utf8' });
    assert.deepEqual([v.status, v.stdout, v.stderr], [0, `bluepill-lens ${version}\n`, '']);
    const annotated = spawnSync('bluepill-lens', ['annotate', '-'], { env, encoding: 'utf8', input: '  x.s:1\t0x10\t\td538d08a\t\tMRS $18052, R10\n' });
    assert.deepEqual([annotated.status, annotated.stdout], [0, '  x.s:1\t0x10\t\td538d08a\t\tMRS TPIDR_EL1, R10  // $18052 · EL1 only\n']);
  });
});
