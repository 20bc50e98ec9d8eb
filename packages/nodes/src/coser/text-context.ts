import { defineNode, port, type Tensor } from '@coser/runtime';
import { z } from 'zod';
import { clipTokenIds } from './clip-tokenizer';
import { type CoserFileName, TEXT_TOKENS } from './contract';
import { readSetTensor, runStage, withStage } from './stage';

const promptParam = (what: string, fallback: CoserFileName) =>
  z
    .string()
    .max(2000)
    .default('')
    .describe(`${what}; empty: the set's precomputed ${fallback}`)
    .meta({ widget: 'prompt' });

/**
 * The CLIP text contexts. Without user prompts both the positive (empty) prompt and the fixed negative prompt of
 * quality words are constants, so a model set ships them as precomputed tensors; a prompt typed here is tokenised in
 * TypeScript and encoded by the set's clip_text.onnx (COSER.md stage 4).
 */
export const textContext = defineNode({
  type: 'coser.textContext',
  typeVersion: 1,
  title: 'Text Context',
  category: 'coser',
  description:
    "The positive and negative CLIP text contexts, 1x77xC each: the set's precomputed positive.bin (empty prompt) " +
    "and negative.bin (quality words), or the prompts given here encoded by the set's clip_text.onnx.",
  inputs: { set: port.modelSet() },
  outputs: {
    positive: port.tokens({ shape: [1, TEXT_TOKENS, 'C'], description: 'Positive prompt tokens' }),
    negative: port.tokens({ shape: [1, TEXT_TOKENS, 'C'], description: 'Negative prompt tokens (unconditional pass)' }),
  },
  params: z.object({
    prompt: promptParam('Positive prompt (what the image shows)', 'positive.bin'),
    negativePrompt: promptParam('Negative prompt (what to avoid)', 'negative.bin'),
  }),
  inferStatic() {
    return { positive: { shape: [1, TEXT_TOKENS, 'C'] }, negative: { shape: [1, TEXT_TOKENS, 'C'] } };
  },
  async execute({ set }, params, ctx) {
    const prompts = { positive: params.prompt.trim(), negative: params.negativePrompt.trim() };
    const encoded: Partial<Record<'positive' | 'negative', Tensor<'float32'>>> = {};
    if (prompts.positive || prompts.negative) {
      await withStage(ctx, set, 'clip_text.onnx', async (session) => {
        for (const side of ['positive', 'negative'] as const) {
          if (!prompts[side]) continue;
          const input_ids: Tensor<'int64'> = {
            dtype: 'int64',
            dims: [1, TEXT_TOKENS],
            data: await clipTokenIds(prompts[side]),
          };
          encoded[side] = (await runStage(ctx, session, { input_ids }, ['context'])).context;
        }
      });
    }
    return {
      positive: encoded.positive ?? (await readSetTensor(ctx, set, 'positive.bin')),
      negative: encoded.negative ?? (await readSetTensor(ctx, set, 'negative.bin')),
    };
  },
});
