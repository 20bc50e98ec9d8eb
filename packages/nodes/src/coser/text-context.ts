import { defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { TEXT_TOKENS } from './contract';
import { readSetTensor } from './stage';

/**
 * The CLIP text contexts: without user prompts both the positive (empty) prompt and the fixed negative prompt of
 * quality words are constants, so a model set ships them as precomputed tensors.
 */
export const textContext = defineNode({
  type: 'coser.textContext',
  typeVersion: 1,
  title: 'Text Context',
  category: 'coser',
  description:
    "The positive (empty prompt) and negative (quality words) CLIP text contexts, 1x77xC each, from the set's " +
    'precomputed positive.bin / negative.bin.',
  inputs: { set: port.modelSet() },
  outputs: {
    positive: port.tokens({ shape: [1, TEXT_TOKENS, 'C'], description: 'Positive prompt tokens' }),
    negative: port.tokens({ shape: [1, TEXT_TOKENS, 'C'], description: 'Negative prompt tokens (unconditional pass)' }),
  },
  params: z.object({}),
  inferStatic() {
    return { positive: { shape: [1, TEXT_TOKENS, 'C'] }, negative: { shape: [1, TEXT_TOKENS, 'C'] } };
  },
  async execute({ set }, _params, ctx) {
    return {
      positive: await readSetTensor(ctx, set, 'positive.bin'),
      negative: await readSetTensor(ctx, set, 'negative.bin'),
    };
  },
});
