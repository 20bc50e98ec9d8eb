import { useEffect, useRef } from 'react';
import type { GraphEditor } from '../state/use-graph-editor';

export interface ShortcutActions {
  editor: GraphEditor;
  fitView(): void;
  save(): void;
  run(): void;
  openFile(): void;
}

/** In-memory clipboard; the system clipboard also gets a copy where the browser allows it. */
let clipboard: string | undefined;

/**
 * Ctrl/Cmd+Z undo, Ctrl+Y or Ctrl+Shift+Z redo, Ctrl+C/V copy/paste, Ctrl+S save, Ctrl+O open, Ctrl+Enter run,
 * F fit view. Delete/Backspace are React Flow's own. Keys typed into a field are left to the field.
 */
export function useEditorShortcuts(actions: ShortcutActions): void {
  const latest = useRef(actions);
  latest.current = actions;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      const { editor, fitView, save, run, openFile } = latest.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 'z' && !e.shiftKey) editor.undo();
      else if (mod && (key === 'y' || (key === 'z' && e.shiftKey))) editor.redo();
      else if (mod && key === 'c') {
        clipboard = editor.copySelection();
        if (clipboard) void navigator.clipboard?.writeText(clipboard).catch(() => undefined);
        return;
      } else if (mod && key === 'v') {
        if (clipboard) editor.paste(clipboard);
      } else if (mod && key === 's') save();
      else if (mod && key === 'o') openFile();
      else if (mod && key === 'enter') run();
      else if (!mod && !e.altKey && key === 'f') fitView();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
