// Gets demo/ ready to be debugged in the real VS Code: builds its binary without
// optimisations (so breakpoints and locals are exact) and points the workspace
// setting bluepill.dlvPath at this clone's pinned dlv. scripts/start.sh does the
// same in bash.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const DEMO_DIR = path.join(REPO_ROOT, 'demo');
export const DEMO_BINARY = path.join(DEMO_DIR, 'bin', 'demo');
export const PINNED_DLV = path.join(REPO_ROOT, 'tools', 'bin', 'dlv');
/** The bluepill round trip without KVM (test/fixtures/minibluepill), built for amd64 to run here. */
export const DEMO_MINIBLUEPILL = path.join(DEMO_DIR, 'bin', 'minibluepill');
/** Its arm64 build's `go tool objdump -S` listing, for the go-objdump language. */
/** What minibluepill-arm64 writes when it dies as gVisor's dieAndDumpExitReason makes a vCPU die. */
export const DEMO_CRASH = path.join(DEMO_DIR, 'bin', 'minibluepill-arm64.crash.txt');
export const DEMO_LISTING = path.join(DEMO_DIR, 'bin', 'minibluepill-arm64.objdump');

/** The line of demo/main.go marked "breakpoint here", found rather than hard-coded. */
export function demoBreakpointLine(): number {
  const lines = fs.readFileSync(path.join(DEMO_DIR, 'main.go'), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes('// breakpoint here'));
  if (i < 0) throw new Error('demo/main.go has no "// breakpoint here" line');
  return i + 1;
}

/** `go`, also where these machines install it but PATH may not say so. */
function goBinary(): string {
  const fallback = '/usr/local/go/bin/go';
  const onPath = (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, 'go')));
  return !onPath && fs.existsSync(fallback) ? fallback : 'go';
}

export function prepareDemo(): void {
  if (!fs.existsSync(PINNED_DLV)) {
    throw new Error(`the pinned dlv is missing at ${PINNED_DLV}: run scripts/setup.sh`);
  }
  execFileSync(goBinary(), ['build', '-gcflags=all=-N -l', '-o', DEMO_BINARY, '.'], {
    cwd: DEMO_DIR, stdio: ['ignore', 2, 2], timeout: 180_000,
  });
  const fixture = path.join(REPO_ROOT, 'test', 'fixtures', 'minibluepill');
  const build = (goarch: string, out: string) =>
    execFileSync(goBinary(), ['build', '-gcflags=all=-N -l', '-o', out, '.'], { cwd: fixture, stdio: ['ignore', 2, 2], timeout: 180_000, env: { ...process.env, GOARCH: goarch, CGO_ENABLED: '0' } });
  build('amd64', DEMO_MINIBLUEPILL);
  build('arm64', `${DEMO_MINIBLUEPILL}-arm64`);
  // A crash report of the ARM64 build, as gVisor's die path makes one (for Decode Crash Report).
  const crash = spawnSync('qemu-aarch64-static', [`${DEMO_MINIBLUEPILL}-arm64`, '-die-with-exit-reason'], { encoding: 'utf8', timeout: 60_000 });
  if (!/^PC=0xabc /m.test(crash.stderr ?? '')) throw new Error(`minibluepill-arm64 -die-with-exit-reason under qemu-aarch64-static gave no crash report (status ${crash.status}): ${crash.error?.message ?? crash.stderr?.slice(-500)}; run scripts/setup.sh`);
  fs.writeFileSync(DEMO_CRASH, crash.stderr);
  fs.writeFileSync(DEMO_LISTING, execFileSync(goBinary(), ['tool', 'objdump', '-S', '-s', '^(main|minibluepill/kvm)\\.', `${DEMO_MINIBLUEPILL}-arm64`], { maxBuffer: 1 << 28 }));
  // Absolute, so it is per clone; demo/.gitignore keeps it out of git.
  fs.writeFileSync(path.join(DEMO_DIR, '.vscode', 'settings.json'), execFileSync('node', [path.join(REPO_ROOT, 'scripts', 'demo-settings.mjs')]));
}
