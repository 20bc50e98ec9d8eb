/**
 * The server's model manager as the editor sees it (the JSON of `GET /api/models/catalogue`,
 * `POST /api/models/:name/install` and the `model:install` socket event; docs/server.md), and the one message
 * for a refused token.
 */

import type { CatalogueModel, InstallState } from '@coser/nodes';

export type { CatalogueModel, InstallState };

/** What every 401 from the server (REST or the socket handshake) is reported as: it names the cause and the fix. */
export const NOT_AUTHORISED = 'not authorised: open the URL `coser serve` printed (it carries the token)';

const STEP_TEXT: Record<NonNullable<InstallState['progress']>['step'], string> = {
  fetch: 'getting the weights',
  convert: 'converting to ONNX',
  write: 'writing the model',
};

/** `installing: step 2/3, converting to ONNX` (or the failure, or "installed"). */
export function describeInstall(state: InstallState): string {
  if (state.state === 'done') return 'installed';
  if (state.state === 'error')
    return `install failed: ${state.error?.code ?? 'INTERNAL'}: ${state.error?.message ?? ''}`;
  const step = state.progress
    ? `step ${state.progress.index}/${state.progress.count}, ${STEP_TEXT[state.progress.step]}`
    : 'starting';
  return `installing: ${step}`;
}

/** `2.8 MB` for an installed file, `~110 MB download` or `no download` for one that is not. */
export function describeSize(model: Pick<CatalogueModel, 'installed' | 'sizeBytes' | 'downloadMB'>): string {
  if (model.installed && model.sizeBytes !== undefined) return `${(model.sizeBytes / 1e6).toFixed(1)} MB`;
  return model.downloadMB > 0 ? `~${model.downloadMB} MB download` : 'no download';
}
