// Writes dist/ThirdPartyNotices.txt: for every npm package whose code esbuild put into a
// bundle (read from the build's metafile, so the list cannot drift from what ships),
// its name, version, licence and the licence text it carries.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The npm packages (name → folder) that the metafiles' inputs come from. */
export function bundledPackages(metafiles, root) {
  const found = new Map();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) found.set(m[1], path.join(root, input.slice(0, m.index + m[0].length)));
    }
  }
  return [...found.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function licenceText(dir) {
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  if (!file) throw new Error(`${dir} ships no licence file: find its licence before bundling it`);
  return fs.readFileSync(path.join(dir, file), 'utf8').trim();
}

export function writeNotices(metafiles, root, outFile) {
  const parts = [
    'bluepill-lens bundles code from the npm packages below into dist/*.js.',
    'Each is listed with its version, its licence and the licence text it ships.',
  ];
  for (const [name, dir] of bundledPackages(metafiles, root)) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url ?? '';
    parts.push('-'.repeat(78), `${name} ${pkg.version} (${pkg.license ?? 'licence not declared'})${repo ? `\n${repo}` : ''}`, '', licenceText(dir));
  }
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${parts.join('\n')}\n`);
}
