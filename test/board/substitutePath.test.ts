// Source paths on a real board (issue 10): runsc there was built under another
// path (e.g. /home/ubuntu/repo/bbb/gvisor) than where its sources are open on the
// host. Here the hello fixture is built, for arm64, from a copy of its sources under
// /home/ubuntu/repo/bbb/, so its DWARF names those paths; the board's dlv execs it;
// the host attaches in remote mode through the proxy with its own checkout's paths.
// vscode-go's (and dlv's) substitutePath: from = this machine (client), to = the
// machine the binary was built on (dlv's side).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { boardUnavailable, expectKeepsRunning, startBoard, type Board } from '../support/board';
import { fixtureSource, lineOf } from '../support/fixtures';
import { repoRoot } from '../support/paths';
import { isAlive } from '../support/processes';

const unavailable = boardUnavailable();
if (unavailable) console.log(`skipped: ${unavailable}`);

/** Where the board's binary was built, as on a real board's checkout. */
const BOARD_CHECKOUT = '/home/ubuntu/repo/bbb';

/**
 * Builds test/fixtures/<name> for arm64 as the board does (optimisations off, no
 * -trimpath), from a copy of its sources under BOARD_CHECKOUT, then removes the copy:
 * only the binary's DWARF keeps those paths. Returns the binary and its source folder.
 */
function buildUnderBoardPath(name: string): { binary: string; builtIn: string; cleanup(): void } {
  const created = fs.mkdirSync(BOARD_CHECKOUT, { recursive: true }); // the first folder it made, if any
  const builtIn = fs.mkdtempSync(path.join(BOARD_CHECKOUT, `${name}-`));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-subst-'));
  const binary = path.join(outDir, name);
  try {
    const sources = path.join(repoRoot, 'test', 'fixtures', name);
    fs.cpSync(sources, builtIn, { recursive: true, filter: (f) => path.relative(sources, f) !== 'bin' });
    execFileSync('go', ['build', '-gcflags=all=-N -l', '-o', binary, '.'], {
      cwd: builtIn,
      env: { ...process.env, GOOS: 'linux', GOARCH: 'arm64', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } finally {
    fs.rmSync(builtIn, { recursive: true, force: true });
    // Leave no empty /home/ubuntu/repo/bbb behind if this run made it.
    if (created) {
      for (let dir = BOARD_CHECKOUT; dir.length >= created.length; dir = path.dirname(dir)) {
        try {
          fs.rmdirSync(dir); // only when empty
        } catch {
          break;
        }
      }
    }
  }
  return { binary, builtIn, cleanup: () => fs.rmSync(outDir, { recursive: true, force: true }) };
}

describe('ARM64 board: sources built under another path, mapped with substitutePath', { skip: unavailable ?? false }, () => {
  const hostDir = path.join(repoRoot, 'test', 'fixtures', 'hello');
  const hostFile = fixtureSource('hello');
  const line = lineOf('hello', 'breakpoint target');
  let build: ReturnType<typeof buildUnderBoardPath>;
  let boardFile: string;
  let board: Board;
  const clients: RecordingClient[] = [];

  const attach = async (extra: Record<string, unknown>) => {
    const dc = await proxyClient();
    clients.push(dc);
    await openSession(dc, 'attach', { mode: 'remote', host: '127.0.0.1', port: board.port, ...extra });
    return dc;
  };

  before(async () => {
    build = buildUnderBoardPath('hello');
    boardFile = path.join(build.builtIn, 'main.go');
    board = await startBoard('program', { program: build.binary, programArgs: ['-forever'] });
    console.log(`board: dlv exec of hello built in ${build.builtIn}, on 127.0.0.1:${board.port} after ${board.startSeconds.toFixed(1)} s`);
  }, { timeout: 40 * 60_000 });
  after(async () => {
    for (const dc of clients) await dc.stop().catch(() => undefined);
    await board?.stop();
    build?.cleanup();
    if (board) assert.equal(isAlive(board.qemuPid), false, 'no qemu is left');
  });

  it('without substitutePath, a breakpoint on the host\'s file does not bind (the binary names the board\'s paths)', async () => {
    const dc = await attach({});
    const onHost = (await dc.setBreakpointsRequest({ source: { path: hostFile }, breakpoints: [{ line }] })).body.breakpoints;
    assert.equal(onHost.length, 1);
    assert.equal(onHost[0].verified, false, `the host file ${hostFile} is unknown to dlv`);
    assert.match(onHost[0].message ?? '', /could not find/i);
    // The control: the path the binary was built under binds, so only the mapping was missing.
    const onBoard = (await dc.setBreakpointsRequest({ source: { path: boardFile }, breakpoints: [{ line }] })).body.breakpoints;
    assert.equal(onBoard[0].verified, true, `dlv knows ${boardFile}: ${onBoard[0].message ?? ''}`);
    assert.equal(onBoard[0].line, line);
    await dc.setBreakpointsRequest({ source: { path: boardFile }, breakpoints: [] });
    await dc.configurationDoneRequest(); // lets the program (stopped at entry) run
    await dc.disconnectRequest({}); // dlv keeps serving (--accept-multiclient) and the program runs on
    await expectKeepsRunning(board, '/bin/program');
  });

  it('with substitutePath, the host\'s breakpoint binds and the stop\'s frames point at the host\'s files', async () => {
    const dc = await attach({ substitutePath: [{ from: hostDir, to: build.builtIn }] });
    const bps = (await dc.setBreakpointsRequest({ source: { path: hostFile }, breakpoints: [{ line }] })).body.breakpoints;
    assert.equal(bps.length, 1);
    assert.equal(bps[0].verified, true, `bound through the mapping: ${bps[0].message ?? ''}`);
    assert.equal(bps[0].line, line);
    assert.equal(bps[0].source?.path ?? hostFile, hostFile, 'dlv answers with the host path, if any');

    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const threadId = ((await stopped) as DebugProtocol.StoppedEvent).body.threadId!;
    const frames = (await dc.stackTraceRequest({ threadId, levels: 20 })).body.stackFrames;
    assert.equal(frames[0].name, 'main.square');
    assert.equal(frames[0].source?.path, hostFile);
    assert.equal(frames[0].line, line);
    const fixtureFrames = frames.filter((f) => f.name.startsWith('main.'));
    assert.deepEqual(fixtureFrames.map((f) => f.name), ['main.square', 'main.compute', 'main.main']);
    for (const f of fixtureFrames) assert.equal(f.source?.path, hostFile, `${f.name} points at the host's file`);
    const boardPaths = frames.filter((f) => f.source?.path?.startsWith(BOARD_CHECKOUT));
    assert.deepEqual(boardPaths, [], 'no frame names a board path');
    // The Go runtime was built from the same GOROOT on both sides: its paths stay as they are.
    assert.ok(frames.some((f) => f.source?.path?.endsWith('/runtime/proc.go')), 'runtime frames keep their paths');

    await dc.setBreakpointsRequest({ source: { path: hostFile }, breakpoints: [] });
    await dc.continueRequest({ threadId });
    await dc.disconnectRequest({});
    await expectKeepsRunning(board, '/bin/program');
  });
});
