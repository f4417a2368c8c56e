// Finds the dlv binary: explicit path, then the setting, then PATH.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DLV_INSTALL_HINT =
  'Install it with `go install github.com/go-delve/delve/cmd/dlv@v1.27.2` (it lands in $(go env GOPATH)/bin), ' +
  'then put that folder on PATH, or set "dlvPath" in the debug configuration (in VS Code, also the setting "bluepill.dlvPath").';

export class DlvNotFoundError extends Error {}

export function locateDlv(explicit: string | undefined, envPath = process.env.PATH ?? ''): string {
  if (explicit) {
    const resolved = expandHome(explicit);
    if (isExecutable(resolved)) return resolved;
    throw new DlvNotFoundError(`dlv was not found at "${explicit}" (from "dlvPath" or bluepill.dlvPath). ${DLV_INSTALL_HINT}`);
  }
  const found = findOnPath('dlv', envPath);
  if (found) return found;
  throw new DlvNotFoundError(`dlv was not found on PATH. ${DLV_INSTALL_HINT}`);
}

/** Like `command -v`: the first executable `name` in the PATH folders we may enter. */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(process.env.HOME ?? '', p.slice(2)) : p;
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
