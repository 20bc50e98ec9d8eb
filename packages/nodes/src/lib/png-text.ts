// PNG iTXt chunks on plain Uint8Arrays, browser-safe (no zlib, no Buffer): outputs carry their graph and provenance
// as text, and dropping such a PNG onto the editor reopens the graph.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** The iTXt keyword holding the graph JSON that produced a saved image. */
export const GRAPH_KEYWORD = 'coser:graph';
/** The iTXt keyword holding the provenance JSON (graph hash, node versions, models, seeds, backend, date). */
export const PROVENANCE_KEYWORD = 'coser:provenance';

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32 (ISO 3309, as PNG uses) of `bytes`. */
export function crc32(bytes: Uint8Array, initial = 0): number {
  const t = table();
  let c = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

interface Chunk {
  readonly type: string;
  /** Offset of the chunk's length field. */
  readonly offset: number;
  readonly data: Uint8Array;
  readonly crcOk: boolean;
}

/** Walks the chunks of a PNG; stops at IEND or at the first chunk that does not fit in the bytes. */
function* chunks(png: Uint8Array): Generator<Chunk> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = view.getUint32(offset);
    if (offset + 12 + length > png.length) return;
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const data = png.subarray(offset + 8, offset + 8 + length);
    const stored = view.getUint32(offset + 8 + length);
    yield { type, offset, data, crcOk: crc32(png.subarray(offset + 4, offset + 8 + length)) === stored };
    if (type === 'IEND') return;
    offset += 12 + length;
  }
}

function checkKeyword(keyword: string): Uint8Array {
  // PNG keywords: 1-79 Latin-1 printable characters, no leading/trailing/double spaces.
  if (
    !/^[\x21-\x7e\xa1-\xff]([\x20-\x7e\xa1-\xff]{0,77}[\x21-\x7e\xa1-\xff])?$/.test(keyword) ||
    keyword.includes('  ')
  ) {
    throw new RangeError(`invalid PNG text keyword ${JSON.stringify(keyword)}`);
  }
  return Uint8Array.from(keyword, (ch) => ch.charCodeAt(0));
}

function makeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** One uncompressed iTXt chunk (no language tag) holding `text` as UTF-8. */
export function makeITxtChunk(keyword: string, text: string): Uint8Array {
  const key = checkKeyword(keyword);
  const value = new TextEncoder().encode(text);
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, text.
  const data = new Uint8Array(key.length + 5 + value.length);
  data.set(key, 0);
  data.set(value, key.length + 5);
  return makeChunk('iTXt', data);
}

/**
 * Returns a copy of `png` with one iTXt chunk per record entry, inserted just before IEND. Existing text chunks
 * with the same keywords are dropped so a re-saved image never carries two graphs.
 *
 * @example
 * const tagged = addPngTextChunks(png, { 'coser:graph': JSON.stringify(graph) });
 */
export function addPngTextChunks(png: Uint8Array, record: Readonly<Record<string, string>>): Uint8Array {
  if (!isPng(png)) throw new RangeError('not a PNG file');
  const replaced = new Set(Object.keys(record));
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  let sawEnd = false;
  for (const chunk of chunks(png)) {
    const whole = png.subarray(chunk.offset, chunk.offset + 12 + chunk.data.length);
    if (chunk.type === 'IEND') {
      for (const [keyword, text] of Object.entries(record)) parts.push(makeITxtChunk(keyword, text));
      sawEnd = true;
    } else if ((chunk.type === 'iTXt' || chunk.type === 'tEXt') && replaced.has(readKeyword(chunk.data))) {
      continue;
    }
    parts.push(whole);
  }
  if (!sawEnd) throw new RangeError('PNG has no IEND chunk (truncated?)');
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function readKeyword(data: Uint8Array): string {
  const end = data.indexOf(0);
  return String.fromCharCode(...data.subarray(0, end < 0 ? Math.min(data.length, 79) : end));
}

/**
 * Reads uncompressed iTXt and tEXt chunks (keyword -> text). Chunks with a bad CRC, compressed iTXt (which would need
 * zlib) and anything after a truncation are skipped: this reads untrusted files and never throws on them.
 *
 * @example
 * const text = readPngTextChunks(bytes); // { 'coser:graph': '{...}', ... }
 */
export function readPngTextChunks(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!isPng(png)) return out;
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  for (const chunk of chunks(png)) {
    if (!chunk.crcOk) continue;
    const d = chunk.data;
    const zero = d.indexOf(0);
    if (zero < 1) continue;
    const keyword = String.fromCharCode(...d.subarray(0, zero));
    if (chunk.type === 'tEXt') {
      out[keyword] = String.fromCharCode(...d.subarray(zero + 1));
    } else if (chunk.type === 'iTXt') {
      if (d[zero + 1] !== 0) continue;
      const langEnd = d.indexOf(0, zero + 3);
      if (langEnd < 0) continue;
      const transEnd = d.indexOf(0, langEnd + 1);
      if (transEnd < 0) continue;
      out[keyword] = utf8.decode(d.subarray(transEnd + 1));
    }
  }
  return out;
}

/**
 * The graph embedded by Save Image (parsed JSON, not yet validated: pass it to `loadGraph`), or undefined when the
 * bytes are not a PNG or carry no graph or the text is not JSON.
 *
 * @example
 * const graph = readEmbeddedGraph(new Uint8Array(await file.arrayBuffer()));
 * if (graph !== undefined) loadGraph(graph);
 */
export function readEmbeddedGraph(png: Uint8Array): unknown {
  const text = readPngTextChunks(png)[GRAPH_KEYWORD];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
