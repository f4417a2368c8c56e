// How deep a parsed JSON value nests. JSON.parse accepts any depth, but JSON.stringify
// (writing the reply) and dlv's decoder recurse, so a message nested thousands deep
// must be stopped where it arrives.

/** No DAP message nests anywhere near this (launch's `env` is 3 levels deep). */
export const MAX_MESSAGE_DEPTH = 64;

/** Whether `value` holds arrays or objects more than `limit` levels deep; recurses at most `limit` levels. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (nestedDeeperThan(item, limit - 1)) return true;
  }
  return false;
}
