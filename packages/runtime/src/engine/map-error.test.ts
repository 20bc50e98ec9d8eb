import { describe, expect, it } from 'vitest';
import { CoserError } from '../errors';
import { isCancellation, toRunError } from './map-error';

describe('toRunError', () => {
  it('keeps CoserError codes and locations, adding the node', () => {
    expect(toRunError(new CoserError('IMAGE_CORRUPT', 'bad', { port: 'image' }), 'load')).toEqual({
      code: 'IMAGE_CORRUPT',
      message: 'bad',
      node: 'load',
      port: 'image',
    });
    expect(toRunError(new CoserError('MODEL_MISSING', 'x', { node: 'inner' }), 'outer').node).toBe('inner');
  });

  it('maps allocation failures from V8 and onnxruntime to OUT_OF_MEMORY', () => {
    for (const message of [
      'Array buffer allocation failed',
      'Invalid typed array length: 99999999999',
      '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for requested buffer of size 123',
      'std::bad_alloc',
      'CUDA failure 2: out of memory',
    ]) {
      expect(toRunError(new RangeError(message), 'n').code, message).toBe('OUT_OF_MEMORY');
    }
  });

  it('reports anything else as INTERNAL with the message only', () => {
    const error = toRunError(new TypeError('x is undefined'), 'n');
    expect(error).toEqual({ code: 'INTERNAL', message: 'x is undefined', node: 'n' });
    expect(toRunError('a string')).toEqual({ code: 'INTERNAL', message: 'a string' });
  });
});

describe('isCancellation', () => {
  it('is true for CANCELLED or any error after the signal aborted', () => {
    const controller = new AbortController();
    expect(isCancellation(new CoserError('CANCELLED', 'c'), controller.signal)).toBe(true);
    expect(isCancellation(new Error('x'), controller.signal)).toBe(false);
    controller.abort();
    expect(isCancellation(new Error('AbortError'), controller.signal)).toBe(true);
    expect(isCancellation(new CoserError('IMAGE_CORRUPT', 'x'), controller.signal)).toBe(false);
  });
});
