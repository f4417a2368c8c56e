// Bundles the extension, the CLI and the stdio adapter with esbuild, after bringing
// the manifest's launch schema in line with adapter/config/launchAttributes.ts, and
// writes the notices of the npm code the bundles carry. Each bundle has a source map
// beside it (dist/*.js.map), so a stack trace from the minified production build can be
// read back to adapter/ and extension/ lines.
import * as esbuild from 'esbuild';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syncManifest } from './sync-manifest.mjs';
import { writeNotices } from './thirdPartyNotices.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
await syncManifest();

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  sourcesContent: false,
  minify: production,
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

// The CLI and the stdio adapter run in processes of their own: there, stack traces are
// mapped back through the source maps. The extension shares VS Code's extension host,
// whose settings are not ours to change.
const ownProcess = { banner: { js: '"use strict"; process.setSourceMapsEnabled(true);' } };

const results = await Promise.all([
  esbuild.build({ ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.build({ ...common, ...ownProcess, entryPoints: ['adapter/cli.ts'], outfile: 'dist/cli.js' }),
  esbuild.build({ ...common, ...ownProcess, entryPoints: ['adapter/stdioMain.ts'], outfile: 'dist/adapter.js' }),
]);
writeNotices(results.map((r) => r.metafile), root, path.join(root, 'dist', 'ThirdPartyNotices.txt'));
