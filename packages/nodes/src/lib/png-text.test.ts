import { describe, expect, it } from 'vitest';
import { encodeWithSharp } from '../host/sharp-codec';
import { testImage } from '../test-support';
import { addPngTextChunks, crc32, makeITxtChunk, readEmbeddedGraph, readPngTextChunks } from './png-text';
import { sniffImageFormat } from './sniff-image';

const text = (s: string) => new TextEncoder().encode(s);

describe('png-text', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(text('IEND'))).toBe(0xae426082);
  });

  it('adds UTF-8 iTXt chunks before IEND, reads them back, and replaces same-keyword chunks', async () => {
    const png = await encodeWithSharp(testImage(4, 4), 'png');
    const graph = { format: 'coser-graph', name: 'Ünïcode ✓ graph' };
    const tagged = addPngTextChunks(png, { 'coser:graph': JSON.stringify(graph), note: 'first' });
    expect(readPngTextChunks(tagged)).toMatchObject({ 'coser:graph': JSON.stringify(graph), note: 'first' });
    expect(readEmbeddedGraph(tagged)).toEqual(graph);
    const again = addPngTextChunks(tagged, { note: 'second' });
    expect(readPngTextChunks(again)['note']).toBe('second');
    // 'second' is one byte longer than 'first': the old chunk was replaced, not kept beside the new one.
    expect(again.length).toBe(tagged.length + 1);
    // The bytes still end with IEND and still decode as a PNG.
    expect(Array.from(again.subarray(-8, -4), (b) => String.fromCharCode(b)).join('')).toBe('IEND');
    expect(sniffImageFormat(again)).toBe('png');
  });

  it('ignores damaged chunks, non-PNG data and non-JSON graphs without throwing', async () => {
    const png = await encodeWithSharp(testImage(4, 4), 'png');
    const tagged = addPngTextChunks(png, { 'coser:graph': '{"a":1}' });
    const damaged = tagged.slice();
    const at = damaged.length - 12 - 5; // inside the text chunk's data
    damaged[at] = damaged[at]! ^ 0xff;
    expect(readPngTextChunks(damaged)).toEqual({});
    expect(readEmbeddedGraph(damaged)).toBeUndefined();
    expect(readEmbeddedGraph(text('not a png'))).toBeUndefined();
    expect(readEmbeddedGraph(tagged.subarray(0, 40))).toBeUndefined();
    expect(readEmbeddedGraph(addPngTextChunks(png, { 'coser:graph': '{not json' }))).toBeUndefined();
    expect(() => addPngTextChunks(png.subarray(0, png.length - 12), { a: 'b' })).toThrow(/IEND/);
  });

  it('refuses invalid keywords', () => {
    expect(() => makeITxtChunk('', 'x')).toThrow(RangeError);
    expect(() => makeITxtChunk('k'.repeat(80), 'x')).toThrow(RangeError);
    expect(() => makeITxtChunk(' lead', 'x')).toThrow(RangeError);
    expect(makeITxtChunk('coser:graph', 'x').length).toBe(12 + 11 + 5 + 1);
  });
});

describe('sniffImageFormat', () => {
  it.each([
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0], 'png'],
    [[0xff, 0xd8, 0xff, 0xe0], 'jpeg'],
    [[...text('RIFF'), 0, 0, 0, 0, ...text('WEBPVP8 ')], 'webp'],
    [[...text('GIF89a')], 'gif'],
    [[...text('\uFEFF  <?xml version="1.0"?>\n<svg xmlns="x"></svg>')], 'svg'],
    [[...text('<svg>')], 'svg'],
    [[...text('<!DOCTYPE html><p>')], 'html'],
    [[...text('  <HTML>')], 'html'],
    [[...text('RIFF....WAVE')], 'unknown'],
    [[], 'unknown'],
  ])('%j is %s', (bytes, format) => {
    expect(sniffImageFormat(Uint8Array.from(bytes))).toBe(format);
  });
});
