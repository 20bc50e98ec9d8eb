import type { GraphFile } from '@coser/runtime';
import { useState } from 'react';
import type { ConnectionStatus } from '../run/server-client';
import type { EditorSettings } from '../state/settings';
import { PresetsMenu } from './presets-menu';
import { SettingsDialog } from './settings-dialog';

export interface ToolbarProps {
  name: string;
  onRename(name: string): void;
  onNew(): void;
  onOpenPreset(graph: GraphFile): void;
  onOpenFile(): void;
  onSave(): void;
  onUndo(): void;
  onRedo(): void;
  canUndo: boolean;
  canRedo: boolean;
  onFit(): void;
  onRun(): void;
  onCancel(): void;
  running: boolean;
  settings: EditorSettings;
  onSettings(settings: EditorSettings): void;
  connection: ConnectionStatus | undefined;
  backendLabel: string;
  onError(text: string): void;
  /** Opens the server's model manager (server mode only). */
  onModels?: () => void;
}

/** File actions, history, run/cancel and the run target. */
export function Toolbar(props: ToolbarProps) {
  const [settingsOpen, setSettingsOpen] = useState(false);
  const { settings, connection } = props;
  return (
    <header className="toolbar">
      <span className="brand">CoSeR Studio</span>
      <input
        className="graph-name"
        aria-label="Graph name"
        value={props.name}
        maxLength={200}
        onChange={(e) => props.onRename(e.target.value)}
      />
      <button type="button" onClick={props.onNew} title="New graph">
        New
      </button>
      <PresetsMenu onOpen={props.onOpenPreset} onError={props.onError} />
      <button type="button" onClick={props.onOpenFile} title="Open a graph (.json) or a PNG saved by CoSeR (Ctrl+O)">
        Open…
      </button>
      <button type="button" onClick={props.onSave} title="Download the graph as JSON (Ctrl+S)">
        Save
      </button>
      <span className="separator" />
      <button type="button" onClick={props.onUndo} disabled={!props.canUndo} title="Undo (Ctrl+Z)">
        Undo
      </button>
      <button type="button" onClick={props.onRedo} disabled={!props.canRedo} title="Redo (Ctrl+Y)">
        Redo
      </button>
      <button type="button" onClick={props.onFit} title="Fit view (F)">
        Fit
      </button>
      <span className="spacer" />
      {props.onModels ? (
        <button type="button" onClick={props.onModels} title="The server's models: install, sizes" data-testid="models">
          Models
        </button>
      ) : null}
      <button
        type="button"
        className="target"
        onClick={() => setSettingsOpen(true)}
        title="Where graphs run"
        data-testid="run-target"
      >
        {settings.mode === 'local'
          ? `This device${props.backendLabel ? ` · ${props.backendLabel}` : ''}`
          : `Server · ${connectionText(connection)}`}
      </button>
      {props.running ? (
        <button type="button" className="danger" onClick={props.onCancel} data-testid="cancel">
          Cancel
        </button>
      ) : (
        <button type="button" className="primary" onClick={props.onRun} data-testid="run" title="Run (Ctrl+Enter)">
          Run
        </button>
      )}
      {settingsOpen ? (
        <SettingsDialog
          settings={settings}
          backendLabel={props.backendLabel}
          onClose={() => setSettingsOpen(false)}
          onSave={(next) => {
            props.onSettings(next);
            setSettingsOpen(false);
          }}
        />
      ) : null}
    </header>
  );
}

function connectionText(status: ConnectionStatus | undefined): string {
  switch (status?.state) {
    case undefined:
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return 'connected';
    case 'disconnected':
      return 'reconnecting…';
    case 'refused':
      return status.code === 'UNAUTHORIZED' ? 'not authorised' : `refused (${status.code})`;
  }
}
