// Uploads: sniffed by content, pixel cap checked from the header before anything decodes, size limits, and the
// token file's permissions.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffImage } from '../../packages/server/src/server/http/image-sniff';
import { loadOrCreateToken } from '../../packages/server/src/server/http/security';
import { errorCode, raw, startTestServer, type TestServer, tempDir } from './helpers';

const SAMPLE = join(import.meta.dirname, '../../graphs/samples/astronaut-lr.png');

/** A PNG whose IHDR claims `width` x `height` (no pixel data: nothing may try to decode it). */
function pngHeader(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'ascii');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes[24] = 8;
  bytes[25] = 2;
  return bytes;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ limits: { maxPixels: 64 * 64 }, maxUploadBytes: 64 * 1024 });
});
afterAll(async () => t.cleanup());

describe('POST /api/uploads', () => {
  it('stores a PNG under a generated name in DATA/uploads', async () => {
    const bytes = await readFile(SAMPLE);
    const res = await raw(t.server, 'POST', '/api/uploads', { headers: { 'content-type': 'image/png' }, body: bytes });
    expect(res.status).toBe(201);
    const body = res.json() as { name: string; format: string; width: number; height: number; bytes: number };
    expect(body).toMatchObject({ format: 'png', width: 64, height: 64, bytes: bytes.length });
    expect(body.name).toMatch(/^[0-9a-f-]{36}\.png$/);
    expect(await readFile(join(t.dataDir, 'uploads', body.name))).toEqual(bytes);
  });

  it('keeps the original name (?name=) in a folder of its own, sanitised, with the extension the bytes say', async () => {
    const bytes = await readFile(SAMPLE);
    const upload = async (name: string) =>
      (await raw(t.server, 'POST', `/api/uploads?name=${encodeURIComponent(name)}`, { body: bytes })).json() as {
        name: string;
      };
    const photo = await upload('holiday photo.jpg');
    expect(photo.name).toMatch(/^[0-9a-f-]{36}\/holiday_photo\.png$/);
    expect(await readFile(join(t.dataDir, 'uploads', ...photo.name.split('/')))).toEqual(bytes);
    // Folders, traversal and hidden names cannot leave the upload's own folder.
    expect((await upload('../../etc/passwd.png')).name).toMatch(/^[0-9a-f-]{36}\/passwd\.png$/);
    expect((await upload('..\\..\\x.png')).name).toMatch(/^[0-9a-f-]{36}\/x\.png$/);
    expect((await upload('.hidden')).name).toMatch(/^[0-9a-f-]{36}\.png$/);
    // Two uploads of the same name never collide.
    expect((await upload('holiday photo.jpg')).name).not.toBe(photo.name);
  });

  it('reads JPEG and WebP sizes from their headers', async () => {
    const jpeg = await sharp(SAMPLE).jpeg().toBuffer();
    const webp = await sharp(SAMPLE).resize(40, 30).webp().toBuffer();
    const lossless = await sharp(SAMPLE).resize(33, 17).webp({ lossless: true }).toBuffer();
    expect(sniffImage(jpeg, 1e9)).toEqual({ format: 'jpeg', width: 64, height: 64 });
    expect(sniffImage(webp, 1e9)).toEqual({ format: 'webp', width: 40, height: 30 });
    expect(sniffImage(lossless, 1e9)).toEqual({ format: 'webp', width: 33, height: 17 });
    const res = await raw(t.server, 'POST', '/api/uploads', { body: jpeg });
    expect(res.json()).toMatchObject({ format: 'jpeg' });
  });

  it('refuses a 20000x20000 header before decoding, and checks the cap to the pixel', async () => {
    const huge = await raw(t.server, 'POST', '/api/uploads', { body: pngHeader(20000, 20000) });
    expect(huge.status).toBe(400);
    expect(errorCode(huge)).toBe('IMAGE_TOO_LARGE');
    expect(sniffImage(pngHeader(64, 64), 64 * 64)).toMatchObject({ width: 64 });
    expect(() => sniffImage(pngHeader(65, 64), 64 * 64)).toThrow(/over the cap/);
    expect(errorCode(await raw(t.server, 'POST', '/api/uploads', { body: pngHeader(65, 64) }))).toBe('IMAGE_TOO_LARGE');
  });

  it.each([
    ['zero bytes', Buffer.alloc(0), 'IMAGE_CORRUPT'],
    ['a truncated PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'IMAGE_CORRUPT'],
    ['a truncated JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a]), 'IMAGE_CORRUPT'],
    [
      'SVG named .png',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      'IMAGE_UNSUPPORTED',
    ],
    ['HTML', Buffer.from('<!doctype html><html><script>alert(1)</script>'), 'IMAGE_UNSUPPORTED'],
    ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00'), 'IMAGE_UNSUPPORTED'],
    ['a zero-size PNG', pngHeader(0, 10), 'IMAGE_CORRUPT'],
  ])('refuses %s', async (_what, body, code) => {
    const res = await raw(t.server, 'POST', '/api/uploads', { headers: { 'content-type': 'image/png' }, body });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe(code);
  });

  it('refuses an upload over the size limit with 413 FILE_TOO_LARGE', async () => {
    const res = await raw(t.server, 'POST', '/api/uploads', {
      body: Buffer.concat([pngHeader(8, 8), Buffer.alloc(70_000)]),
    });
    expect(res.status).toBe(413);
    expect(errorCode(res)).toBe('FILE_TOO_LARGE');
  });
});

describe('the token', () => {
  it('is generated once, stored with mode 0600 and reused; COSER_TOKEN wins', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateToken(dir, undefined);
    expect(first.source).toBe('generated');
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    expect((await stat(join(dir, 'token'))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateToken(dir, undefined)).toEqual({ token: first.token, source: 'file' });
    expect(await loadOrCreateToken(dir, 'from-env')).toEqual({ token: 'from-env', source: 'env' });
  });
});
