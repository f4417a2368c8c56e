// Adds "what to do" to dlv's launch and attach errors (permissions, not a Go
// program, missing files). The original dlv text stays first, unchanged.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { adviceFor } from '../dlv/errorHints';
import type { ProxyHook } from '../session/hooks';

export const launchErrorAdvice: ProxyHook = {
  name: 'launchErrorAdvice',
  stage: 'annotate',
  rewriteResponse(response) {
    if (response.success || (response.command !== 'launch' && response.command !== 'attach')) return;
    const error = (response as DebugProtocol.ErrorResponse).body?.error;
    const text = error?.format ?? response.message ?? '';
    const advice = adviceFor(text);
    if (!advice) return;
    if (error) error.format = `${error.format}\n\n${advice}`;
    else response.message = `${text}\n\n${advice}`;
    return true;
  },
};
