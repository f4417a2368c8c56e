// Builds the Go fixture programs the tests debug, once per source change.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './paths';

export interface BuildOptions {
  goarch?: 'amd64' | 'arm64';
  /** As `go build` builds by default (inlining on), like a release runsc; otherwise -N -l, as dlv likes. */
  optimized?: boolean;
}

/** Returns the path of test/fixtures/<name> built with optimisations off, as dlv likes (or on: `optimized`). */
export function buildFixture(name: string, o: BuildOptions = {}): string {
  const dir = path.join(repoRoot, 'test', 'fixtures', name);
  const goarch = o.goarch ?? 'amd64';
  const out = path.join(dir, 'bin', `${name}${goarch === 'amd64' ? '' : `-${goarch}`}${o.optimized ? '-optimized' : ''}`);
  const newestSource = Math.max(...sourcesOf(dir).map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= newestSource) return out;
  execFileSync('go', ['build', ...(o.optimized ? [] : ['-gcflags=all=-N -l']), '-o', out, '.'], {
    cwd: dir,
    env: { ...process.env, GOARCH: goarch, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return out;
}

/** The fixture's Go sources, its packages' folders included (minibluepill/kvm), never bin/. */
function sourcesOf(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'bin' ? [] : sourcesOf(file);
    return /\.(go|s|mod)$/.test(e.name) ? [file] : [];
  });
}

export function fixtureSource(name: string, file = 'main.go'): string {
  return path.join(repoRoot, 'test', 'fixtures', name, file);
}

/** The line of `marker` (a comment in the fixture source), 1-based. */
export function lineOf(name: string, marker: string): number {
  const lines = fs.readFileSync(fixtureSource(name), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`marker "${marker}" not in fixture ${name}`);
  return index + 1;
}

/**
 * "file.go:LINE" of the line that is exactly `text` (trimmed) in a minibluepill source file: how a
 * frame is named where the proxy has no symbols of the program (dlv's file and line).
 */
export function minibluepillLine(file: string, text: string): string {
  const line = fs.readFileSync(fixtureSource('minibluepill', file), 'utf8').split('\n').findIndex((l) => l.trim() === text) + 1;
  if (line === 0) throw new Error(`"${text}" is not a line of minibluepill's ${file}`);
  return `${path.basename(file)}:${line}`;
}

/** The exit minibluepill -die-with-exit-reason reports (kvm.DieExit in its source): reason, then four data words. */
export function minibluepillDieExit(): bigint[] {
  const m = /var DieExit = \[5\]uint64\{([^}]+)\}/.exec(fs.readFileSync(fixtureSource('minibluepill', 'kvm/bluepill.go'), 'utf8'));
  if (!m) throw new Error('kvm.DieExit is not in test/fixtures/minibluepill/kvm/bluepill.go');
  return m[1].split(',').map((s) => BigInt(s.trim()));
}
