import { CoserError, defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { inspectModelSet } from './model-set';

/**
 * Opens a CoSeR model set (a folder with `coser-set.json` and the contract's files) and checks it against the
 * contract before anything runs: validation stops here, naming the missing or mismatched files.
 */
export const loadModelSet = defineNode({
  type: 'coser.loadModelSet',
  typeVersion: 1,
  title: 'Load Model Set',
  category: 'coser',
  description:
    'Opens a CoSeR model set (coser-set.json + the ONNX files of each stage) and checks every file against the ' +
    'contract: names, dtypes and shapes of inputs/outputs, token width, files present. See docs/coser.md.',
  inputs: {},
  outputs: { set: port.modelSet({ description: 'The checked model set; stages load their files from it in turn' }) },
  params: z.object({
    set: z
      .string()
      .max(200)
      .default('.')
      .describe("Model-set folder inside the models folder ('.' = the models folder itself, as given by --models)")
      .meta({ widget: 'model-set' }),
  }),
  inferStatic(_inputs, params) {
    return { set: { note: params.set === '.' ? 'models folder' : params.set } };
  },
  async check(params, ctx) {
    return (await inspectModelSet(ctx.host, params.set)).diagnostics;
  },
  async execute(_inputs, params, ctx) {
    const { manifest, diagnostics } = await inspectModelSet(ctx.host, params.set);
    const first = diagnostics.find((d) => d.severity === 'error');
    if (first || !manifest) {
      const message = diagnostics.map((d) => d.message).join('; ') || 'the model set could not be read';
      throw new CoserError(first?.code ?? 'MODEL_SET_INVALID', message, { node: ctx.node, param: 'set' });
    }
    return { set: { name: params.set, manifest } };
  },
});
