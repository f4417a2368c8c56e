// The go-objdump grammar, loaded into the same TextMate engine VS Code uses
// (vscode-textmate + vscode-oniguruma). Once per process: the WASM loads only once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vsctm from 'vscode-textmate';
import * as oniguruma from 'vscode-oniguruma';
import { repoRoot } from './paths';

let loading: Promise<vsctm.IGrammar> | undefined;

export function loadObjdumpGrammar(): Promise<vsctm.IGrammar> {
  loading ??= (async () => {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
      loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(path.join(repoRoot, 'syntaxes', 'go-objdump.tmLanguage.json'), 'utf8'), 'go-objdump.tmLanguage.json'),
    });
    return (await registry.loadGrammar('source.go-objdump'))!;
  })();
  return loading;
}
