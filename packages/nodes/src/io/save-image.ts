import type { ExecuteContext, ImageBuffer } from '@coser/runtime';
import { CoserError, defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { GRAPH_KEYWORD, PROVENANCE_KEYWORD } from '../lib/png-text';

const EXTENSIONS = { png: 'png', jpeg: 'jpg', webp: 'webp' } as const;

/** What a saved PNG records about how it was made (the `coser:provenance` iTXt chunk, JSON). */
export interface Provenance {
  graphHash: string;
  runId: string;
  nodes: { type: string; typeVersion: number }[];
  models: { name: string; sha256: string }[];
  seeds: number[];
  tiles?: { size: number; overlap: number };
  /** The image's `meta.notes` (e.g. made by contract models), when it has any. */
  notes?: string[];
  backend: string;
  date: string;
}

/** Builds the provenance record of an image saved in this run. */
export function buildProvenance(image: ImageBuffer, ctx: ExecuteContext): Provenance {
  const seen = new Map<string, number>();
  for (const node of ctx.run.graph.nodes) seen.set(`${node.type}@${node.typeVersion}`, node.typeVersion);
  const nodes = [...seen.entries()].map(([key, typeVersion]) => ({
    type: key.slice(0, key.lastIndexOf('@')),
    typeVersion,
  }));
  nodes.sort((a, b) => a.type.localeCompare(b.type) || a.typeVersion - b.typeVersion);
  const meta = image.meta ?? {};
  return {
    graphHash: ctx.run.graphHash,
    runId: ctx.run.runId,
    nodes,
    models: [...(meta.models ?? [])],
    seeds: [...(meta.seeds ?? [])],
    ...(meta.tiles ? { tiles: meta.tiles } : {}),
    ...(meta.notes?.length ? { notes: [...meta.notes] } : {}),
    backend: ctx.backend.name,
    date: new Date().toISOString(),
  };
}

/**
 * Expands `{name}` (the input's base name, or `output`) and `{node}` and adds the format's extension when the
 * template has none. Characters that are unsafe in file names become `_`; the host still checks the result.
 */
export function expandFilename(
  template: string,
  image: ImageBuffer,
  node: string,
  format: keyof typeof EXTENSIONS,
): string {
  const name = image.meta?.sourceName || 'output';
  const expanded = template.replaceAll('{name}', name).replaceAll('{node}', node);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are replaced on purpose
  const safe = expanded.replace(/[\u0000-\u001f<>:"|?*\\/]/g, '_').trim();
  if (safe === '' || /^\.+$/.test(safe)) {
    throw new CoserError('PARAM_INVALID', `file name template ${JSON.stringify(template)} gives an empty name`, {
      node,
      param: 'filename',
    });
  }
  const ext = EXTENSIONS[format];
  const lower = safe.toLowerCase();
  const hasExt = lower.endsWith(`.${ext}`) || (format === 'jpeg' && lower.endsWith('.jpeg'));
  return hasExt ? safe : `${safe}.${ext}`;
}

/** Encodes an image and writes it to the run's output folder; PNGs carry the graph and provenance as iTXt. */
export const saveImage = defineNode({
  type: 'io.saveImage',
  typeVersion: 1,
  title: 'Save Image',
  category: 'io',
  description:
    'Writes the image to the output folder. PNG files embed the graph and its provenance (graph hash, node ' +
    'versions, models, seeds, backend) so dropping them onto the editor reopens the graph.',
  inputs: { image: port.image() },
  outputs: { file: port.file({ description: 'Where the file was written and its format' }) },
  params: z.object({
    filename: z
      .string()
      .max(200)
      .default('{name}')
      .describe('Output file name; {name} is the input image name (or "output"), {node} this node id')
      .meta({ widget: 'output-name' }),
    format: z.enum(['png', 'jpeg', 'webp']).default('png').describe('File format'),
    quality: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(95)
      .describe('JPEG/WebP quality (1-100)')
      .meta({ appliesWhen: { format: ['jpeg', 'webp'] } }),
    bitDepth: z
      .union([z.literal(8), z.literal(16)])
      .default(8)
      .describe('PNG bits per channel (16 keeps more precision)')
      .meta({ appliesWhen: { format: ['png'] } }),
  }),
  output: true,
  volatile: true,
  async execute({ image }, params, ctx) {
    const name = expandFilename(params.filename, image, ctx.node, params.format);
    const text =
      params.format === 'png'
        ? {
            [GRAPH_KEYWORD]: JSON.stringify(ctx.run.graph),
            [PROVENANCE_KEYWORD]: JSON.stringify(buildProvenance(image, ctx)),
          }
        : undefined;
    const bytes = await ctx.host.encodeImage(image, params.format, {
      quality: params.quality,
      bitDepth: params.bitDepth,
      ...(text ? { text } : {}),
    });
    ctx.throwIfCancelled();
    const written = await ctx.host.writeOutput(name, bytes);
    const notes = image.meta?.notes;
    return { file: { path: written, format: params.format, ...(notes?.length ? { notes: [...notes] } : {}) } };
  },
});
