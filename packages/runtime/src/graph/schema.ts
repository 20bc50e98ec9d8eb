import { z } from 'zod';

/** The graph file's `format` marker and the version this build writes. */
export const GRAPH_FORMAT = 'coser-graph';
export const GRAPH_VERSION = 1;

/** Ids are short, printable and never a prototype key (checked separately with a clear code). */
const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'ids use letters, digits, _ . : -');

const portRefSchema = z.object({ node: idSchema, port: idSchema }).strict();

export const graphNodeSchema = z
  .object({
    id: idSchema,
    type: z.string().min(1).max(128),
    typeVersion: z.number().int().positive(),
    params: z.record(z.string(), z.unknown()).default({}),
    position: z.object({ x: z.number().finite(), y: z.number().finite() }).optional(),
    /** A user's own label for the node, shown by the editor instead of the node type's title. */
    title: z.string().max(200).optional(),
  })
  .strict();

export const graphEdgeSchema = z.object({ from: portRefSchema, to: portRefSchema }).strict();

/** A name a headless run may set (`--input image=photo.png`), bound to one node param. */
export const graphInputSchema = z
  .object({ node: idSchema, param: idSchema, description: z.string().optional() })
  .strict();

/**
 * The graph file, version 1: one format for the editor and for headless runs. Older versions are upgraded by
 * `migrateGraph` before this schema sees them.
 */
export const graphFileSchema = z
  .object({
    format: z.literal(GRAPH_FORMAT),
    version: z.literal(GRAPH_VERSION),
    name: z.string().max(200).default('Untitled'),
    description: z.string().max(10_000).default(''),
    nodes: z.array(graphNodeSchema),
    edges: z.array(graphEdgeSchema).default([]),
    inputs: z.record(idSchema, graphInputSchema).default({}),
    /** Editor-only state (viewport); the runtime ignores it. */
    editor: z.object({ viewport: z.object({ x: z.number(), y: z.number(), zoom: z.number() }).optional() }).optional(),
  })
  .strict();

export type GraphFile = z.infer<typeof graphFileSchema>;
export type GraphNode = z.infer<typeof graphNodeSchema>;
export type GraphEdge = z.infer<typeof graphEdgeSchema>;
export type GraphInput = z.infer<typeof graphInputSchema>;
