// Small node definitions and a fake environment for the runtime's own tests (not exported from the package).
import { z } from 'zod';
import type { InferenceBackend } from '../backend/inference-backend';
import type { Host } from '../engine/host';
import { defineNode } from '../engine/node-definition';
import { createRegistry } from '../engine/registry';
import { CoserError } from '../errors';
import { port } from '../graph/ports';
import type { GraphFile } from '../graph/schema';
import { createImage } from '../image/image-buffer';

/** Counts how often each node type's `execute` ran, to test caching. */
export function createFixtureNodes() {
  const calls: Record<string, number> = {};
  const count = (type: string) => {
    calls[type] = (calls[type] ?? 0) + 1;
  };
  const constant = defineNode({
    type: 'test.constant',
    typeVersion: 1,
    title: 'Constant',
    category: 'test',
    description: 'Outputs its param.',
    inputs: {},
    outputs: { value: port.number() },
    params: z.object({ value: z.number().min(-1000).max(1000).default(1).describe('The value') }),
    inferStatic: (_inputs, params) => ({ value: { note: `= ${params.value}` } }),
    async execute(_inputs, params) {
      count('test.constant');
      return { value: params.value };
    },
  });
  const add = defineNode({
    type: 'test.add',
    typeVersion: 2,
    title: 'Add',
    category: 'test',
    description: 'a + b + offset.',
    inputs: { a: port.number(), b: port.number({ optional: true }) },
    outputs: { sum: port.number() },
    params: z.object({ offset: z.number().int().min(0).max(8).default(0).describe('Added to the sum') }),
    // Version 1 called the param `bias`.
    migrations: { 1: ({ bias, ...rest }) => ({ ...rest, ...(bias === undefined ? {} : { offset: bias }) }) },
    async execute({ a, b }, params) {
      count('test.add');
      return { sum: a + (b ?? 0) + params.offset };
    },
  });
  const image = defineNode({
    type: 'test.image',
    typeVersion: 1,
    title: 'Image',
    category: 'test',
    description: 'A flat image.',
    inputs: {},
    outputs: { image: port.image() },
    params: z.object({ size: z.number().int().min(1).max(64).default(4).describe('Width and height') }),
    inferStatic: (_inputs, params) => ({ image: { width: params.size, height: params.size, channels: 3 } }),
    async execute(_inputs, params) {
      count('test.image');
      return { image: createImage(params.size, params.size, 3) };
    },
  });
  const upscale = defineNode({
    type: 'test.upscale',
    typeVersion: 1,
    title: 'Upscale',
    category: 'test',
    description: 'Reports a bigger size.',
    inputs: { image: port.image() },
    outputs: { image: port.image() },
    params: z.object({ scale: z.number().int().min(1).max(8).default(2).describe('Scale factor') }),
    inferStatic: ({ image }, params) => ({
      image:
        image?.width && image.height
          ? { ...image, width: image.width * params.scale, height: image.height * params.scale }
          : {},
    }),
    async execute({ image }, params, ctx) {
      count('test.upscale');
      for (let i = 0; i < 3; i++) {
        ctx.throwIfCancelled();
        ctx.progress(i + 1, 3, 'tiles');
      }
      ctx.preview(image);
      return { image: createImage(image.width * params.scale, image.height * params.scale, image.channels) };
    },
  });
  const sink = defineNode({
    type: 'test.sink',
    typeVersion: 1,
    title: 'Sink',
    category: 'test',
    description: 'An output node.',
    inputs: { value: port.number() },
    outputs: { value: port.number() },
    params: z.object({}),
    output: true,
    async execute({ value }) {
      count('test.sink');
      return { value };
    },
  });
  const imageSink = defineNode({
    type: 'test.imageSink',
    typeVersion: 1,
    title: 'Image sink',
    category: 'test',
    description: 'An output node for images.',
    inputs: { image: port.image() },
    outputs: { image: port.image() },
    params: z.object({}),
    output: true,
    async execute({ image }) {
      count('test.imageSink');
      return { image };
    },
  });
  const fail = defineNode({
    type: 'test.fail',
    typeVersion: 1,
    title: 'Fail',
    category: 'test',
    description: 'Throws what it is told to.',
    inputs: { value: port.number({ optional: true }) },
    outputs: { value: port.number() },
    params: z.object({
      mode: z.enum(['coser', 'oom', 'bug', 'ok']).default('ok').describe('What to throw'),
    }),
    volatile: true,
    async execute({ value }, params) {
      count('test.fail');
      if (params.mode === 'coser') throw new CoserError('IMAGE_CORRUPT', 'bad pixels', { port: 'value' });
      if (params.mode === 'oom') throw new RangeError('Array buffer allocation failed');
      if (params.mode === 'bug') throw new TypeError('x is undefined');
      return { value: value ?? 0 };
    },
  });
  const wait = defineNode({
    type: 'test.wait',
    typeVersion: 1,
    title: 'Wait',
    category: 'test',
    description: 'Waits until cancelled (or a timeout).',
    inputs: { value: port.number({ optional: true }) },
    outputs: { value: port.number() },
    params: z.object({ ms: z.number().min(0).max(10_000).default(5000).describe('Timeout') }),
    async execute({ value }, params, ctx) {
      count('test.wait');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      ctx.throwIfCancelled();
      return { value: value ?? 0 };
    },
  });
  const definitions = [constant, add, image, upscale, sink, imageSink, fail, wait];
  return { calls, definitions, constant, registry: createRegistry(definitions) };
}

/** A host and backend that refuse everything: the fixture nodes never touch them. */
export function createFakeEnvironmentParts(): { host: Host; backend: InferenceBackend } {
  const refuse = async (): Promise<never> => {
    throw new CoserError('NOT_READY', 'not available in tests');
  };
  return {
    host: {
      readInput: refuse,
      writeOutput: refuse,
      decodeImage: refuse,
      encodeImage: refuse,
      resolveModel: refuse,
    },
    backend: { name: 'test', load: refuse, release: async () => {}, releaseAll: async () => {} },
  };
}

/** A valid graph: two constants added, the sum into a sink; an image upscaled into an image sink. */
export function sampleGraph(): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: 'Sample',
    description: '',
    nodes: [
      { id: 'a', type: 'test.constant', typeVersion: 1, params: { value: 2 } },
      { id: 'b', type: 'test.constant', typeVersion: 1, params: { value: 3 } },
      { id: 'sum', type: 'test.add', typeVersion: 2, params: { offset: 1 } },
      { id: 'out', type: 'test.sink', typeVersion: 1, params: {} },
      { id: 'img', type: 'test.image', typeVersion: 1, params: { size: 4 } },
      { id: 'up', type: 'test.upscale', typeVersion: 1, params: { scale: 2 } },
      { id: 'save', type: 'test.imageSink', typeVersion: 1, params: {} },
    ],
    edges: [
      { from: { node: 'a', port: 'value' }, to: { node: 'sum', port: 'a' } },
      { from: { node: 'b', port: 'value' }, to: { node: 'sum', port: 'b' } },
      { from: { node: 'sum', port: 'sum' }, to: { node: 'out', port: 'value' } },
      { from: { node: 'img', port: 'image' }, to: { node: 'up', port: 'image' } },
      { from: { node: 'up', port: 'image' }, to: { node: 'save', port: 'image' } },
    ],
    inputs: { first: { node: 'a', param: 'value' }, size: { node: 'img', param: 'size' } },
  };
}
