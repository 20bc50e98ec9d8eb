import { useState } from 'react';
import type { EditorSettings } from '../state/settings';

export interface SettingsDialogProps {
  settings: EditorSettings;
  onSave(settings: EditorSettings): void;
  onClose(): void;
  /** e.g. "onnxruntime-web/wasm · 2 threads" once known. */
  backendLabel: string;
}

/** Where graphs run: this device (onnxruntime-web) or a `coser serve` server, with its URL and token. */
export function SettingsDialog({ settings, onSave, onClose, backendLabel }: SettingsDialogProps) {
  const [draft, setDraft] = useState(settings);
  const set = <K extends keyof EditorSettings>(key: K, value: EditorSettings[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  return (
    <div className="dialog-backdrop">
      <form
        className="dialog"
        aria-label="Settings"
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
        }}
        onSubmit={(e) => {
          e.preventDefault();
          onSave(draft);
        }}
      >
        <h2>Run settings</h2>
        <fieldset>
          <legend>Run graphs</legend>
          <label>
            <input type="radio" name="mode" checked={draft.mode === 'local'} onChange={() => set('mode', 'local')} /> on
            this device (onnxruntime-web)
          </label>
          <label>
            <input type="radio" name="mode" checked={draft.mode === 'server'} onChange={() => set('mode', 'server')} />{' '}
            on a server (<code>coser serve</code>)
          </label>
        </fieldset>
        <fieldset disabled={draft.mode !== 'local'}>
          <legend>This device</legend>
          <label>
            Backend{' '}
            <select value={draft.backend} onChange={(e) => set('backend', e.target.value as EditorSettings['backend'])}>
              <option value="auto">auto (WebGPU when available, else WASM)</option>
              <option value="webgpu">WebGPU</option>
              <option value="wasm">WASM (CPU)</option>
            </select>
          </label>
          <p className="hint">
            {crossOriginIsolated
              ? 'Cross-origin isolated: WASM threads on.'
              : 'Not cross-origin isolated: WASM runs on one thread.'}{' '}
            {backendLabel ? `Current: ${backendLabel}` : ''}
          </p>
        </fieldset>
        <fieldset disabled={draft.mode !== 'server'}>
          <legend>Server</legend>
          <label>
            URL{' '}
            <input
              type="url"
              placeholder={location.origin}
              value={draft.serverUrl}
              onChange={(e) => set('serverUrl', e.target.value)}
            />
          </label>
          <label>
            Token{' '}
            <input
              type="password"
              value={draft.token}
              autoComplete="off"
              onChange={(e) => set('token', e.target.value)}
            />
          </label>
          <p className="hint">
            <code>coser serve</code> prints the token; opening <code>URL/#token=…</code> fills it in.
          </p>
        </fieldset>
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Save
          </button>
        </div>
      </form>
    </div>
  );
}
