/**
 * Canonical JSON: object keys sorted, no whitespace, so that equal data always hashes equally (graph hashes in
 * provenance, output-cache keys). `undefined` object members are dropped and non-finite numbers become `null`,
 * exactly as `JSON.stringify` does.
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const out = write(value);
  return out ?? 'null';
}

function write(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (ArrayBuffer.isView(value)) {
    // Typed arrays (image data in params are unusual, but a cache key must still be stable): hash-friendly list.
    return `[${Array.from(value as unknown as ArrayLike<number | bigint>, (v) => String(v)).join(',')}]`;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => write(item) ?? 'null').join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = write(record[key]);
    if (member !== undefined) parts.push(`${JSON.stringify(key)}:${member}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * SHA-256 as lowercase hex, through WebCrypto (`globalThis.crypto.subtle`), so it works in Node and browsers alike.
 * Strings are hashed as UTF-8.
 *
 * @example
 * const graphHash = await sha256Hex(canonicalJson(graph));
 */
export async function sha256Hex(textOrBytes: string | Uint8Array): Promise<string> {
  const bytes = typeof textOrBytes === 'string' ? new TextEncoder().encode(textOrBytes) : textOrBytes;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  const view = new Uint8Array(digest);
  let hex = '';
  for (const byte of view) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
