import type { GraphFile } from '@coser/runtime';
import { useEffect, useRef, useState } from 'react';
import { PRESETS } from '../graph/presets';

export interface PresetsMenuProps {
  onOpen(graph: GraphFile): void;
  onError(text: string): void;
}

/** The bundled presets, each with its title and description (what it does, what it needs); picking one opens it. */
export function PresetsMenu({ onOpen, onError }: PresetsMenuProps) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);

  // Closes on Escape or a click anywhere else, as menus do.
  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div className="presets-menu" ref={root}>
      <button
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label="Open preset"
        title="Open a preset graph"
        onClick={() => setOpen((o) => !o)}
      >
        Presets ▾
      </button>
      {open ? (
        <div className="presets-list" role="menu">
          {PRESETS.map((preset) => (
            <button
              key={preset.name}
              type="button"
              role="menuitem"
              className="preset-item"
              data-preset={preset.name}
              onClick={() => {
                setOpen(false);
                preset.load().then(onOpen, (err: Error) => onError(err.message));
              }}
            >
              <span className="preset-title">{preset.title}</span>
              <span className="preset-description">{preset.description}</span>
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
