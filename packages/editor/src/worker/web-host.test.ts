// The browser host's input checks (what Load Image's check sees before a run): sizes from headers, and what its
// decoder would refuse, with the decoder's codes.
import { encodeWithSharp } from '@coser/nodes/node';
import { createImage } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { createWebHost } from './web-host';

function host() {
  return createWebHost({
    models: {
      resolve: () => Promise.reject(new Error('no models here')),
    },
    onOutput: () => {},
    maxInputBytes: 10_000,
  });
}

describe('web host inspectInput', () => {
  it('gives an upload’s size from its header, and names what the decoder would refuse', async () => {
    const h = host();
    h.addUpload('uploads/a.png', await encodeWithSharp(createImage(12, 10, 3), 'png'));
    h.addUpload('uploads/b.svg', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'));
    h.addUpload('uploads/c.bin', new Uint8Array([1, 2, 3, 4]));
    h.addUpload('uploads/d.png', new Uint8Array(20_000));
    expect(await h.inspectInput!('uploads/a.png')).toMatchObject({ width: 12, height: 10 });
    expect((await h.inspectInput!('uploads/b.svg')).imageProblem?.code).toBe('IMAGE_UNSUPPORTED');
    expect((await h.inspectInput!('uploads/c.bin')).imageProblem?.code).toBe('IMAGE_CORRUPT');
    await expect(h.inspectInput!('uploads/d.png')).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    await expect(h.inspectInput!('uploads/none.png')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
