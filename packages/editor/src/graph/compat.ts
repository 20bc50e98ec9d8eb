import type { CatalogEntry, PortKind, PortSpec } from '@coser/runtime';
import { canConnect } from '@coser/runtime';

/** The catalog as the editor indexes it. */
export type CatalogIndex = ReadonlyMap<string, CatalogEntry>;

export function indexCatalog(catalog: readonly CatalogEntry[]): CatalogIndex {
  return new Map(catalog.map((entry) => [entry.type, entry]));
}

/** One end of a wire as React Flow reports it. */
export interface WireEnd {
  nodeType: string | undefined;
  handle: string | null | undefined;
}

/**
 * Whether a wire from an output handle to an input handle is allowed, with the reason when it is not (shown in
 * the status line while dragging). Unknown node types are refused: their ports are not known.
 */
export function checkWire(
  catalog: CatalogIndex,
  from: WireEnd,
  to: WireEnd,
  sameNode: boolean,
): { ok: true } | { ok: false; reason: string } {
  if (sameNode) return { ok: false, reason: 'a node cannot feed itself' };
  const source = from.nodeType ? catalog.get(from.nodeType) : undefined;
  const target = to.nodeType ? catalog.get(to.nodeType) : undefined;
  if (!source || !target) return { ok: false, reason: 'unknown node type' };
  const out = from.handle ? source.outputs[from.handle] : undefined;
  const input = to.handle ? target.inputs[to.handle] : undefined;
  if (!out) return { ok: false, reason: `${source.title} has no output "${from.handle ?? ''}"` };
  if (!input) return { ok: false, reason: `${target.title} has no input "${to.handle ?? ''}"` };
  return canConnect(out, input);
}

/** What the palette filters by when opened from a dropped wire: a port kind on the side it must connect to. */
export interface PortFilter {
  kind: PortKind;
  /** 'input': the new node must have an input of this kind (the wire came from an output), and vice versa. */
  side: 'input' | 'output';
  shape?: readonly (number | string)[];
}

/** The first port of `entry` a dangling wire of `filter` can attach to, or undefined. */
export function matchingPort(entry: CatalogEntry, filter: PortFilter): string | undefined {
  const probe: PortSpec = { kind: filter.kind, optional: false, ...(filter.shape ? { shape: filter.shape } : {}) };
  const ports = filter.side === 'input' ? entry.inputs : entry.outputs;
  for (const [key, spec] of Object.entries(ports)) {
    const result = filter.side === 'input' ? canConnect(probe, spec) : canConnect(spec, probe);
    if (result.ok) return key;
  }
  return undefined;
}

/** Palette order: what most graphs use first (loading and saving, upscaling, then image operations); CoSeR last. */
const CATEGORY_ORDER = ['io', 'upscale', 'image', 'metrics'];
const LAST_CATEGORIES = ['coser'];
/** Within its category, each of these comes first: the node most graphs of that kind need. */
const LEADING_TYPES = ['io.loadImage', 'io.saveImage', 'upscale.upscaleImage'];

/** Orders palette entries: by category (CATEGORY_ORDER, then any other A-Z, then CoSeR), leading types, title. */
export function comparePaletteOrder(a: CatalogEntry, b: CatalogEntry): number {
  const rank = (category: string) => {
    const at = CATEGORY_ORDER.indexOf(category);
    if (at >= 0) return at;
    return LAST_CATEGORIES.includes(category) ? CATEGORY_ORDER.length + 1 : CATEGORY_ORDER.length;
  };
  const lead = (type: string) => {
    const at = LEADING_TYPES.indexOf(type);
    return at >= 0 ? at : LEADING_TYPES.length;
  };
  return (
    rank(a.category) - rank(b.category) ||
    a.category.localeCompare(b.category) ||
    lead(a.type) - lead(b.type) ||
    a.title.localeCompare(b.title)
  );
}

/**
 * Palette search: entries whose title, type, category or description contain every word of the query, restricted
 * to those a dangling wire can attach to. Title matches rank first, then {@link comparePaletteOrder}.
 */
export function searchCatalog(catalog: readonly CatalogEntry[], query: string, filter?: PortFilter): CatalogEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const scored: { entry: CatalogEntry; score: number }[] = [];
  for (const entry of catalog) {
    if (filter && matchingPort(entry, filter) === undefined) continue;
    const title = entry.title.toLowerCase();
    const haystack = `${title} ${entry.type.toLowerCase()} ${entry.category.toLowerCase()} ${entry.description.toLowerCase()}`;
    if (!words.every((w) => haystack.includes(w))) continue;
    const score = words.length === 0 ? 0 : words.every((w) => title.includes(w)) ? 2 : 1;
    scored.push({ entry, score });
  }
  scored.sort((a, b) => b.score - a.score || comparePaletteOrder(a.entry, b.entry));
  return scored.map((s) => s.entry);
}
