// Writes contributes.debuggers[0].configurationAttributes in package.json from the
// attribute table in adapter/config/launchAttributes.ts: one source for the schema
// VS Code checks launch.json with and the rules the proxy enforces.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function loadAttributeTables() {
  const out = await esbuild.build({
    entryPoints: [path.join(root, 'adapter/config/launchAttributes.ts')],
    bundle: true, platform: 'node', format: 'cjs', write: false,
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(module, module.exports, createRequire(import.meta.url));
  return module.exports;
}

export function toJsonSchema(table) {
  const properties = {};
  for (const [name, spec] of Object.entries(table)) {
    const p = { type: spec.numericString ? [spec.type, 'string'] : spec.type, description: spec.description };
    if (spec.enum) p.enum = spec.enum;
    if (spec.default !== undefined) p.default = spec.default;
    if (spec.items) p.items = { type: spec.items };
    // An array of objects of a known shape (substitutePath's {from, to}): VS Code checks it as it is typed.
    if (spec.itemProperties) {
      p.items = {
        type: 'object',
        properties: Object.fromEntries(Object.entries(spec.itemProperties).map(([k, t]) => [k, { type: t }])),
        required: Object.keys(spec.itemProperties),
      };
    }
    properties[name] = p;
  }
  return { properties };
}

export async function expectedAttributes() {
  const { launchAttributes, attachAttributes } = await loadAttributeTables();
  return { launch: toJsonSchema(launchAttributes), attach: toJsonSchema(attachAttributes) };
}

export async function syncManifest() {
  const file = path.join(root, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  const debuggerEntry = manifest.contributes.debuggers[0];
  const expected = await expectedAttributes();
  if (JSON.stringify(debuggerEntry.configurationAttributes) === JSON.stringify(expected)) return false;
  debuggerEntry.configurationAttributes = expected;
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await syncManifest()) ? 'package.json updated' : 'package.json already in sync');
}
