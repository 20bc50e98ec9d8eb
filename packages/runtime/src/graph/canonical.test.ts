import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from './canonical';
import { sha256HexSync } from './sha256-sync';

describe('canonicalJson', () => {
  it('sorts keys at every level and matches JSON for the rest', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    expect(canonicalJson({ a: undefined, b: Number.NaN, c: [undefined] })).toBe('{"b":null,"c":[null]}');
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
});

describe('sha256Hex', () => {
  it('hashes UTF-8 text and bytes', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new Uint8Array([97, 98, 99]))).toBe(await sha256Hex('abc'));
    expect(await sha256Hex('é')).not.toBe(await sha256Hex('e'));
  });
});

describe('sha256HexSync', () => {
  it('matches WebCrypto on empty, short, multi-block and non-ASCII input', async () => {
    expect(sha256HexSync('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const text of [
      'abc',
      'a'.repeat(55),
      'b'.repeat(56),
      'c'.repeat(64),
      'é€😀'.repeat(50),
      'x'.repeat(1000),
      'lone \ud800 surrogate \udc00',
    ]) {
      expect(sha256HexSync(text)).toBe(await sha256Hex(text));
    }
  });
});
