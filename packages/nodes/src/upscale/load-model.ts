import { CoserError, type Diagnostic, defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { findCatalogueEntry } from '../models/catalogue';
import { readSrEntry } from '../models/manifest';

/** Checks that a model name resolves to an installed super-resolution model; diagnostics for `param`. */
export async function checkSrModel(
  name: string,
  resolveModel: (name: string) => Promise<{ entry: Readonly<Record<string, unknown>> }>,
  param: string,
): Promise<Diagnostic[]> {
  try {
    const { entry } = await resolveModel(name);
    if (!readSrEntry(entry))
      return [
        {
          severity: 'error',
          code: 'MODEL_INCOMPATIBLE',
          param,
          message: `${name} is not an RGB super-resolution model (task ${String(entry['task'])}, channels ${String(entry['channels'])})`,
        },
      ];
    return [];
  } catch (error) {
    if (error instanceof CoserError) return [{ severity: 'error', code: error.code, param, message: error.message }];
    throw error;
  }
}

/** `x4` for a catalogue model, shown under the handle and read by Upscale Image's size inference. */
export function scaleNote(name: string): string | undefined {
  const entry = findCatalogueEntry(name);
  return entry ? `x${entry.scale} · ${entry.licence}` : undefined;
}

/**
 * Picks a super-resolution model from the model manager. Missing or unfit models are reported at validation
 * (MODEL_MISSING with the install command, MODEL_INCOMPATIBLE), not mid-run.
 */
export const loadModel = defineNode({
  type: 'upscale.loadModel',
  typeVersion: 1,
  title: 'Load Model',
  category: 'upscale',
  description:
    'Chooses an installed super-resolution model (`npx coser models list`). The session is loaded by the node that ' +
    'uses it, so one model feeding several upscalers loads once.',
  inputs: {},
  outputs: { model: port.model({ description: 'The chosen model (name, sha256, manifest entry)' }) },
  params: z.object({
    model: z
      .string()
      .default('esrgan-medium-x4')
      .describe('Model name from the model manager, e.g. esrgan-medium-x4')
      .meta({ widget: 'model', task: 'super-resolution' }),
  }),
  inferStatic(_inputs, params) {
    const note = scaleNote(params.model);
    return note ? { model: { note } } : {};
  },
  async check(params, ctx) {
    return checkSrModel(params.model, (n) => ctx.host.resolveModel(n), 'model');
  },
  async execute(_inputs, params, ctx) {
    const { source, entry } = await ctx.host.resolveModel(params.model);
    if (!readSrEntry(entry))
      throw new CoserError('MODEL_INCOMPATIBLE', `${params.model} is not an RGB super-resolution model`, {
        node: ctx.node,
        param: 'model',
      });
    return { model: { name: source.name, sha256: source.sha256 ?? source.key, entry } };
  },
});
