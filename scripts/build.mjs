// Bundles the extension, the CLI and the stdio adapter with esbuild, after bringing
// the manifest's launch schema in line with adapter/config/launchAttributes.ts.
import * as esbuild from 'esbuild';
import { syncManifest } from './sync-manifest.mjs';

const production = process.argv.includes('--production');
await syncManifest();

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

await Promise.all([
  esbuild.build({ ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.build({ ...common, entryPoints: ['adapter/cli.ts'], outfile: 'dist/cli.js' }),
  esbuild.build({ ...common, entryPoints: ['adapter/stdioMain.ts'], outfile: 'dist/adapter.js' }),
]);
