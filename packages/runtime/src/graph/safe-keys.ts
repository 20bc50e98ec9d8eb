/** Names that would reach an object's prototype chain if used as a key; refused anywhere in a graph. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** Problems `scanValue` finds in untrusted data, before anything else looks at it. */
export type ScanProblem =
  | { kind: 'forbidden-key'; path: string; key: string }
  | { kind: 'too-deep'; path: string }
  | { kind: 'cycle'; path: string }
  | { kind: 'not-json'; path: string; what: string };

/**
 * Walks a value iteratively (an explicit stack, so 10,000-deep input cannot overflow the call stack) and reports
 * the first forbidden key, excessive nesting, cycle or non-JSON member (function, symbol, class instance).
 */
export function scanValue(value: unknown, maxDepth: number): ScanProblem | undefined {
  // Paths are built only when a problem is found: each frame points at its parent instead of carrying a string,
  // which keeps scanning a large graph cheap (no string per value).
  type Visit = { value: unknown; parent: Visit | undefined; key: string | number; depth: number };
  type Frame = Visit | { exit: object };
  const root: Visit = { value, parent: undefined, key: '', depth: 0 };
  const stack: Frame[] = [root];
  // Objects on the path from the root (a repeat there is a cycle) and objects already scanned (a shared, diamond
  // reference is fine and is not walked twice).
  const onPath = new Set<object>();
  const done = new Set<object>();
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ('exit' in item) {
      onPath.delete(item.exit);
      done.add(item.exit);
      continue;
    }
    const current = item.value;
    if (current === null || typeof current !== 'object') {
      if (typeof current === 'function' || typeof current === 'symbol' || typeof current === 'bigint') {
        return { kind: 'not-json', path: pathOf(item), what: typeof current };
      }
      continue;
    }
    if (done.has(current)) continue;
    if (onPath.has(current)) return { kind: 'cycle', path: pathOf(item) };
    if (item.depth >= maxDepth) return { kind: 'too-deep', path: pathOf(item) };
    onPath.add(current);
    stack.push({ exit: current });
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], parent: item, key: i, depth: item.depth + 1 });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) {
      return { kind: 'not-json', path: pathOf(item), what: proto?.constructor?.name ?? 'object' };
    }
    const keys = Object.keys(current);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const child: Visit = {
        value: (current as Record<string, unknown>)[key],
        parent: item,
        key,
        depth: item.depth + 1,
      };
      if (isForbiddenKey(key)) return { kind: 'forbidden-key', path: pathOf(child), key };
      stack.push(child);
    }
  }
  return undefined;
}

/** `nodes[2].params.x` for a frame, from its parent chain. */
function pathOf(frame: { parent: unknown; key: string | number }): string {
  const parts: (string | number)[] = [];
  for (let f: { parent: unknown; key: string | number } | undefined = frame; f?.parent; f = f.parent as typeof f) {
    parts.push(f.key);
  }
  let out = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

/**
 * Maximum `[`/`{` nesting of JSON text, counted without parsing (strings and escapes skipped), so text nested
 * deeper than JSON.parse or a walker could handle is refused before it is parsed.
 */
export function jsonTextDepth(text: string, stopAt: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}
