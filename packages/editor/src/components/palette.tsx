import type { CatalogEntry } from '@coser/runtime';
import { PORT_KINDS } from '@coser/runtime';
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { type PortFilter, searchCatalog } from '../graph/compat';

export interface PaletteProps {
  catalog: readonly CatalogEntry[];
  onPick(entry: CatalogEntry): void;
  /** Only nodes a dangling wire of this kind can attach to. */
  filter?: PortFilter;
  /** Popup mode: Escape or picking closes it. */
  onClose?(): void;
  autoFocus?: boolean;
}

/** MIME type for dragging a palette entry onto the canvas. */
export const PALETTE_DRAG_TYPE = 'application/x-coser-node-type';

/** Searchable node list, grouped by category; entries can be clicked, picked with Enter, or dragged to the canvas. */
export function Palette({ catalog, onPick, filter, onClose, autoFocus }: PaletteProps) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const results = useMemo(() => searchCatalog(catalog, query, filter), [catalog, query, filter]);

  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, [autoFocus]);

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((a) => Math.min(results.length - 1, a + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === 'Enter') {
      const entry = results[active];
      if (entry) onPick(entry);
    } else if (e.key === 'Escape') {
      onClose?.();
    }
  };

  let lastCategory = '';
  return (
    <div className={`palette${onClose ? ' popup' : ''}`} data-testid="palette">
      {filter ? (
        <div className="palette-filter">
          <span className="kind-dot" style={{ background: PORT_KINDS[filter.kind].color }} />
          nodes with {filter.side === 'input' ? 'an input' : 'an output'} of kind {PORT_KINDS[filter.kind].label}
        </div>
      ) : null}
      <input
        ref={input}
        className="palette-search"
        placeholder="Search nodes…"
        aria-label="Search nodes"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <div className="palette-list nowheel" role="listbox">
        {results.length === 0 ? <div className="palette-empty">No matching nodes</div> : null}
        {results.map((entry, i) => {
          const header = query === '' && entry.category !== lastCategory ? entry.category : undefined;
          lastCategory = entry.category;
          return (
            <div key={entry.type}>
              {header ? <div className="palette-category">{header}</div> : null}
              <div
                role="option"
                tabIndex={-1}
                aria-selected={i === active}
                className={`palette-item${i === active ? ' active' : ''}`}
                title={entry.description}
                data-node-type={entry.type}
                draggable
                onDragStart={(e) => {
                  e.dataTransfer.setData(PALETTE_DRAG_TYPE, entry.type);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onMouseEnter={() => setActive(i)}
                onClick={() => onPick(entry)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') onPick(entry);
                }}
              >
                <span className="palette-title">{entry.title}</span>
                <span className="palette-type">{entry.type}</span>
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
