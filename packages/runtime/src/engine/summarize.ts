import type { PortKind } from '../graph/ports';
import type { OutputSummary } from './events';

/**
 * A JSON-safe summary of a value on a port of the given kind, for `run:done` (images by size, files by path,
 * tensors by dims; never the pixel data).
 */
export function summarizeValue(kind: PortKind, value: unknown): OutputSummary {
  const record = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  switch (kind) {
    case 'image':
      if (record && typeof record['width'] === 'number' && typeof record['height'] === 'number') {
        const meta = record['meta'] as { notes?: unknown } | undefined;
        return {
          kind: 'image',
          width: record['width'],
          height: record['height'],
          channels: typeof record['channels'] === 'number' ? record['channels'] : 0,
          ...notesOf(meta?.notes),
        };
      }
      break;
    case 'file':
      if (record && typeof record['path'] === 'string') {
        return {
          kind: 'file',
          path: record['path'],
          ...(typeof record['format'] === 'string' ? { format: record['format'] } : {}),
          ...(typeof record['width'] === 'number' ? { width: record['width'] } : {}),
          ...(typeof record['height'] === 'number' ? { height: record['height'] } : {}),
          ...notesOf(record['notes']),
        };
      }
      break;
    case 'number':
      if (typeof value === 'number') return { kind: 'number', value };
      break;
    case 'text':
      if (typeof value === 'string') return { kind: 'text', value };
      break;
    case 'metrics':
      if (record) {
        const values: Record<string, number> = {};
        for (const [k, v] of Object.entries(record)) if (typeof v === 'number') values[k] = v;
        return { kind: 'metrics', values };
      }
      break;
    case 'latent':
    case 'tokens':
      if (record && Array.isArray(record['dims'])) return { kind: 'tensor', dims: [...(record['dims'] as number[])] };
      break;
    case 'features':
      if (Array.isArray(value)) return { kind: 'other', description: `${value.length} feature tensors` };
      break;
    case 'model':
    case 'modelSet':
      if (record && typeof record['name'] === 'string')
        return { kind: 'other', description: `${kind} ${record['name']}` };
      break;
  }
  return { kind: 'other', description: value === undefined ? 'nothing' : `${kind} value` };
}

/** `{ notes }` when `value` is a non-empty list of strings, else nothing. */
function notesOf(value: unknown): { notes?: string[] } {
  const notes = Array.isArray(value) ? value.filter((n): n is string => typeof n === 'string') : [];
  return notes.length > 0 ? { notes } : {};
}
