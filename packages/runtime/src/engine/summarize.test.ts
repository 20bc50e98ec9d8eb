import { describe, expect, it } from 'vitest';
import { createImage } from '../image/image-buffer';
import { float32Tensor } from '../image/tensor';
import { summarizeValue } from './summarize';

describe('summarizeValue', () => {
  it('summarises each port kind without pixel data', () => {
    expect(summarizeValue('image', createImage(4, 3, 3))).toEqual({ kind: 'image', width: 4, height: 3, channels: 3 });
    expect(summarizeValue('file', { path: 'out/a.png', format: 'png' })).toEqual({
      kind: 'file',
      path: 'out/a.png',
      format: 'png',
    });
    expect(summarizeValue('number', 2.5)).toEqual({ kind: 'number', value: 2.5 });
    expect(summarizeValue('text', 'hi')).toEqual({ kind: 'text', value: 'hi' });
    expect(summarizeValue('metrics', { psnr: 27.4, label: 'x' })).toEqual({ kind: 'metrics', values: { psnr: 27.4 } });
    expect(summarizeValue('latent', float32Tensor([1, 4, 8, 8]))).toEqual({ kind: 'tensor', dims: [1, 4, 8, 8] });
    expect(summarizeValue('features', [float32Tensor([1])])).toEqual({
      kind: 'other',
      description: '1 feature tensors',
    });
    expect(summarizeValue('model', { name: 'esrgan' })).toEqual({ kind: 'other', description: 'model esrgan' });
    expect(summarizeValue('image', undefined)).toEqual({ kind: 'other', description: 'nothing' });
    expect(JSON.parse(JSON.stringify(summarizeValue('image', createImage(2, 2, 1))))).toEqual({
      kind: 'image',
      width: 2,
      height: 2,
      channels: 1,
    });
  });
});
