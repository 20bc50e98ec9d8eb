import type { z } from 'zod';
import type { InferenceBackend } from '../backend/inference-backend';
import type { Diagnostic } from '../errors';
import type { PortKind, PortSpec, PortValueMap, StaticInfo } from '../graph/ports';
import type { GraphFile } from '../graph/schema';
import type { ImageBuffer } from '../image/image-buffer';
import type { Host } from './host';

export type PortMap = Readonly<Record<string, PortSpec>>;

/** The values a node's `execute` receives: one per input port, `undefined` for an unconnected optional one. */
export type InputValues<I extends PortMap> = {
  [K in keyof I]: I[K] extends PortSpec<infer Kind extends PortKind>
    ? I[K]['optional'] extends true
      ? PortValueMap[Kind] | undefined
      : PortValueMap[Kind]
    : never;
};

/** The values a node's `execute` returns: one per output port, by name (never by position). */
export type OutputValues<O extends PortMap> = {
  [K in keyof O]: O[K] extends PortSpec<infer Kind extends PortKind> ? PortValueMap[Kind] : never;
};

/** Limits every environment enforces; the CLI and server set them from flags/config. */
export interface RuntimeLimits {
  /** Largest image (width * height) a node may decode or produce. */
  readonly maxPixels: number;
  /** Memory the tiling "auto" size and the session cache aim to stay under, in bytes. */
  readonly memoryBudgetBytes: number;
}

export const DEFAULT_LIMITS: RuntimeLimits = {
  maxPixels: 8192 * 8192,
  memoryBudgetBytes: 2 * 1024 ** 3,
};

/** Facts about the run a node may record in provenance. */
export interface RunInfo {
  readonly runId: string;
  readonly graph: GraphFile;
  /** sha256 (hex) of the graph's canonical JSON. */
  readonly graphHash: string;
}

/** What `execute` gets besides its inputs and params. */
export interface ExecuteContext {
  readonly node: string;
  readonly signal: AbortSignal;
  readonly backend: InferenceBackend;
  readonly host: Host;
  readonly limits: RuntimeLimits;
  readonly run: RunInfo;
  /** Reports progress of a long node (tiles, sampler steps); cheap to call often, the executor throttles. */
  progress(value: number, max: number, label?: string): void;
  /** Shows an intermediate image (a sampler step, a finished tile) in the editor. */
  preview(image: ImageBuffer): void;
  /** Throws CoserError CANCELLED when the run was cancelled; call between units of work. */
  throwIfCancelled(): void;
}

/** What node-level environment checks get (used by `checkGraph`, before a run starts). */
export interface CheckContext {
  readonly host: Host;
  readonly limits: RuntimeLimits;
  /**
   * The node's input ports that have an edge, set by `checkGraph` for each node: lets a node whose param stands in
   * for an optional input (Upscale Image's `model`) report that neither is given before the run starts.
   */
  readonly connected?: ReadonlySet<string>;
  /**
   * Reports static facts of one of the node's outputs that only the environment knows (Load Image: the size in
   * the file's header). `checkGraph` then infers sizes through the rest of the graph with them, so an output that
   * would pass the pixel cap is refused before the run starts.
   */
  readonly reportStatic?: (port: string, info: StaticInfo) => void;
}

/** Static facts of a node's inputs (by port) and its params, for `inferStatic`. */
export type StaticInputs<I extends PortMap> = { [K in keyof I]?: StaticInfo };

export interface NodeDefinition<
  I extends PortMap = PortMap,
  O extends PortMap = PortMap,
  P extends z.ZodObject = z.ZodObject,
> {
  /** Namespaced and stable, e.g. `upscale.upscaleImage`. */
  readonly type: string;
  /** Bumped when params change; `migrations[n]` upgrades params saved at version n to n + 1. */
  readonly typeVersion: number;
  readonly title: string;
  readonly category: string;
  readonly description: string;
  readonly inputs: I;
  readonly outputs: O;
  /** Every field has a default and a `.describe()`; bounds are stated with min/max. */
  readonly params: P;
  readonly migrations?: Readonly<Record<number, (params: Record<string, unknown>) => Record<string, unknown>>>;
  /** Output nodes (Save Image, Compare) are reported in `run:done` and never skipped. */
  readonly output?: boolean;
  /** Nodes whose result must not be reused from the cache (e.g. they write files). */
  readonly volatile?: boolean;
  /** Output sizes/shapes known before running, for the editor and validation. */
  inferStatic?(inputs: StaticInputs<I>, params: z.infer<P>): Partial<Record<keyof O, StaticInfo>>;
  /** Checks against the environment (model installed, model set fits the contract); never throws. */
  check?(params: z.infer<P>, ctx: CheckContext): Promise<Diagnostic[]>;
  /**
   * Computes the outputs. Inputs are shared (one output may feed several nodes, and cached outputs are reused by
   * later runs): never modify an input's data in place; allocate a new buffer for the result.
   */
  execute(inputs: InputValues<I>, params: z.infer<P>, ctx: ExecuteContext): Promise<OutputValues<O>>;
}

/** A node definition with its generics erased, as registries and executors hold it. */
// biome-ignore lint/suspicious/noExplicitAny: the erased form must accept every concrete definition
export type AnyNodeDefinition = NodeDefinition<any, any, any>;

/**
 * Declares a node. One node per file, named after the node (`upscale-image.ts` exports `upscaleImage`).
 *
 * @example
 * export const invert = defineNode({
 *   type: 'image.invert', typeVersion: 1, title: 'Invert', category: 'image', description: 'Inverts colours.',
 *   inputs: { image: port.image() }, outputs: { image: port.image() },
 *   params: z.object({}),
 *   async execute({ image }) { return { image: mapPixels(image, (v) => 1 - v) }; },
 * });
 */
export function defineNode<I extends PortMap, O extends PortMap, P extends z.ZodObject>(
  definition: NodeDefinition<I, O, P>,
): NodeDefinition<I, O, P> {
  return definition;
}
