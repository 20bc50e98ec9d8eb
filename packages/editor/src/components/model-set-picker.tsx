import { useRef, useState } from 'react';
import type { WidgetServices } from './param-widgets';

interface Props {
  id: string;
  value: unknown;
  onChange(value: unknown): void;
  services: WidgetServices;
}

/** The part of the File System Access API used here (Chromium; not in TypeScript's DOM types). */
interface DirectoryHandle {
  readonly name: string;
  values(): AsyncIterable<{ kind: 'file' | 'directory'; getFile?: () => Promise<File> }>;
}
type ShowDirectoryPicker = (options?: { mode?: 'read' }) => Promise<DirectoryHandle>;

/** Where a CoSeR model set comes from, said wherever one is missing. */
export const MODEL_SET_SOURCE =
  'a CoSeR model set is a folder with coser-set.json and the ONNX file of each stage, exported as docs/coser.md describes (`npx coser models contract-set DIR` writes a small test set)';

/**
 * Load Model Set's `set` param: a folder name, plus, on this device, "open folder…" to open a model-set folder
 * from disk (`showDirectoryPicker`, or `<input webkitdirectory>` where the browser has no such picker).
 */
export function ModelSetPicker({ id, value, onChange, services }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const current = typeof value === 'string' ? value : '';
  const open = services.openModelSet;
  const opened = services.modelSets ?? [];
  const take = (name: string, files: File[]) => {
    if (!files.some((f) => f.name === 'coser-set.json')) {
      setProblem(`${name} has no coser-set.json, so it is not a model set: ${MODEL_SET_SOURCE}`);
      return;
    }
    setProblem(undefined);
    open?.(name, files);
    onChange(name);
  };
  const pick = async () => {
    const picker = (window as unknown as { showDirectoryPicker?: ShowDirectoryPicker }).showDirectoryPicker;
    if (typeof picker !== 'function') {
      input.current?.click();
      return;
    }
    let folder: DirectoryHandle;
    try {
      folder = await picker({ mode: 'read' });
    } catch (cause) {
      // Cancelled: nothing to do. Refused (a sandboxed frame, a policy): the plain folder input still works.
      if ((cause as Error).name !== 'AbortError') input.current?.click();
      return;
    }
    const files: File[] = [];
    for await (const entry of folder.values())
      if (entry.kind === 'file' && entry.getFile) files.push(await entry.getFile());
    take(folder.name, files);
  };
  const openedHere = open && (opened.includes(current) || (current === '.' && opened.length > 0));
  return (
    <div className="model-set-field">
      <div className="model-picker">
        <input id={id} type="text" value={current} maxLength={200} onChange={(e) => onChange(e.target.value)} />
        {open ? (
          <button type="button" className="file-button" onClick={() => void pick()} data-testid="open-model-set">
            open folder…
          </button>
        ) : null}
        <input
          ref={input}
          type="file"
          hidden
          data-testid="model-set-folder"
          // React passes unknown attributes through: the folder picker every Chromium and Firefox has.
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            const all = [...(e.target.files ?? [])];
            e.target.value = '';
            // webkitRelativePath is "folder/file": a set is flat, so only the folder's own files count.
            const top = all.filter((f) => f.webkitRelativePath.split('/').length === 2);
            const name = top[0]?.webkitRelativePath.split('/')[0];
            if (name) take(name, top);
          }}
        />
      </div>
      {problem ? (
        <div className="param-message">{problem}</div>
      ) : open && !openedHere ? (
        <div className="param-note" data-testid="model-set-hint">
          No model set is open on this device: open its folder. {MODEL_SET_SOURCE}.
        </div>
      ) : null}
    </div>
  );
}
