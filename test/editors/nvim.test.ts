// nvim-dap is not packaged in Debian and cannot be fetched in CI, so its snippet is checked,
// not run: Lua 5.4's compiler parses editors/nvim/bluepill-lens.lua, and the README shows that file.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/paths';

const snippet = path.join(repoRoot, 'editors', 'nvim', 'bluepill-lens.lua');

describe('nvim-dap snippet', () => {
  it('is valid Lua (luac5.4 -p), and a broken copy is not', () => {
    execFileSync('luac5.4', ['-p', snippet], { stdio: 'pipe' });
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nvim-snippet-')), 'broken.lua');
    const text = fs.readFileSync(snippet, 'utf8');
    fs.writeFileSync(broken, text.replace(/\}\)\s*$/, '}\n')); // the list_extend call left open
    assert.notEqual(fs.readFileSync(broken, 'utf8'), text);
    assert.throws(() => execFileSync('luac5.4', ['-p', broken], { stdio: 'pipe', encoding: 'utf8' }), (e: { stderr: string }) => /'\)' expected/.test(e.stderr));
  });

  it('adds to the Go configurations instead of replacing them', () => {
    const lua = fs.readFileSync(snippet, 'utf8');
    assert.match(lua, /vim\.list_extend\(dap\.configurations\.go,/);
    assert.doesNotMatch(lua, /dap\.configurations\.go = \{/);
  });

  it('is the snippet the README shows', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```lua\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.includes(fs.readFileSync(snippet, 'utf8')), 'README.md must show editors/nvim/bluepill-lens.lua verbatim in a ```lua block');
  });
});
