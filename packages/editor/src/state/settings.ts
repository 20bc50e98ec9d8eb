import type { BackendChoice } from '../worker/protocol';

/** Where runs go and how; kept in localStorage. */
export interface EditorSettings {
  mode: 'local' | 'server';
  /** The server's URL; empty = the page's own origin (the server serves the editor). */
  serverUrl: string;
  token: string;
  backend: BackendChoice;
  /** Random per-browser key that makes this browser the owner of its server runs. */
  clientKey: string;
}

const KEY = 'coser.editor.settings';

export function loadSettings(storage: Storage | undefined = globalThis.localStorage): EditorSettings {
  const defaults: EditorSettings = {
    mode: 'local',
    serverUrl: '',
    token: '',
    backend: 'auto',
    clientKey: randomKey(),
  };
  let stored: Partial<EditorSettings> = {};
  try {
    stored = JSON.parse(storage?.getItem(KEY) ?? '{}') as Partial<EditorSettings>;
  } catch {
    // A corrupt entry falls back to the defaults.
  }
  const settings: EditorSettings = {
    mode: stored.mode === 'server' ? 'server' : 'local',
    serverUrl: typeof stored.serverUrl === 'string' ? stored.serverUrl : '',
    token: typeof stored.token === 'string' ? stored.token : '',
    backend: stored.backend === 'wasm' || stored.backend === 'webgpu' ? stored.backend : 'auto',
    clientKey: typeof stored.clientKey === 'string' && stored.clientKey ? stored.clientKey : defaults.clientKey,
  };
  return settings;
}

export function saveSettings(settings: EditorSettings, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(KEY, JSON.stringify(settings));
  } catch {
    // Private mode or a full quota: settings last for this page only.
  }
}

/**
 * `coser serve` prints `URL/#token=TOKEN`: take the token from the fragment (it never reaches the server's logs),
 * switch to server mode, and remove it from the address bar.
 */
export function takeTokenFromLocation(settings: EditorSettings, location: Location, history: History): EditorSettings {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return settings;
  history.replaceState(null, '', location.pathname + location.search);
  return { ...settings, mode: 'server', serverUrl: '', token: decodeURIComponent(match[1]) };
}

export function serverOrigin(settings: EditorSettings, location: Location): string {
  return settings.serverUrl.trim() || location.origin;
}

function randomKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2);
}
