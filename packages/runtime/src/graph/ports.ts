import type { ImageBuffer } from '../image/image-buffer';
import type { Tensor } from '../image/tensor';

/**
 * The port kinds. A small closed set on purpose: the editor colours handles by kind and the validator refuses
 * wiring across kinds. `shape` on tensor-like ports lets the editor show sizes and refuse a wrong wiring early.
 */
export const PORT_KINDS = {
  image: { label: 'Image', color: '#4f9dff' },
  model: { label: 'Model', color: '#c678dd' },
  modelSet: { label: 'Model set', color: '#a35fd0' },
  number: { label: 'Number', color: '#98c379' },
  text: { label: 'Text', color: '#e5c07b' },
  metrics: { label: 'Metrics', color: '#56b6c2' },
  latent: { label: 'Latent', color: '#e06c75' },
  tokens: { label: 'Tokens', color: '#d19a66' },
  features: { label: 'Control features', color: '#be5046' },
  file: { label: 'File', color: '#abb2bf' },
} as const;

export type PortKind = keyof typeof PORT_KINDS;

/** Values that travel on each kind of port. Node code is typed against this map. */
export interface PortValueMap {
  image: ImageBuffer;
  model: LoadedModelRef;
  modelSet: ModelSetRef;
  number: number;
  text: string;
  metrics: Record<string, number>;
  latent: Tensor<'float32'>;
  tokens: Tensor<'float32'>;
  features: readonly Tensor<'float32'>[];
  file: { path: string; format: string };
}

/** A model chosen by a Load Model node: its manifest name and entry; the session is loaded by the consumer. */
export interface LoadedModelRef {
  readonly name: string;
  readonly sha256: string;
  readonly entry: Readonly<Record<string, unknown>>;
}

/** A CoSeR model set chosen by a Load Model Set node (folder + parsed manifest, owned by @coser/nodes). */
export interface ModelSetRef {
  readonly name: string;
  readonly manifest: Readonly<Record<string, unknown>>;
}

/** Static facts about a port's value, known before running (image size, tensor shape), shown by the editor. */
export interface StaticInfo {
  width?: number;
  height?: number;
  channels?: number;
  /** Symbolic dims are strings (e.g. 'h'). */
  shape?: readonly (number | string)[];
  /** Free text the editor shows under the handle (e.g. "x4 · 3 ch"). */
  note?: string;
}

export interface PortSpec<K extends PortKind = PortKind> {
  readonly kind: K;
  /** An optional input may be left unconnected; the node then receives `undefined`. */
  readonly optional: boolean;
  readonly label?: string;
  readonly description?: string;
  /** Expected tensor shape for latent/tokens/features ports ('*' or a name for any size). */
  readonly shape?: readonly (number | string)[];
}

/** Options of the `port.*` constructors. */
export type PortOptions = Partial<Pick<PortSpec, 'optional' | 'label' | 'description' | 'shape'>>;

/** A port spec whose `optional` is the literal given (so `InputValues` adds `| undefined` for optional inputs). */
export type PortSpecOf<K extends PortKind, O extends PortOptions> = PortSpec<K> & {
  readonly optional: O['optional'] extends true ? true : false;
};

function makePort<K extends PortKind>(kind: K) {
  return <const O extends PortOptions = Record<never, never>>(options?: O): PortSpecOf<K, O> =>
    ({ kind, optional: false, ...options }) as PortSpecOf<K, O>;
}

/**
 * Port constructors for node definitions.
 *
 * @example
 * inputs: { image: port.image(), reference: port.image({ optional: true, label: 'Reference' }) }
 */
export const port = {
  image: makePort('image'),
  model: makePort('model'),
  modelSet: makePort('modelSet'),
  number: makePort('number'),
  text: makePort('text'),
  metrics: makePort('metrics'),
  latent: makePort('latent'),
  tokens: makePort('tokens'),
  features: makePort('features'),
  file: makePort('file'),
};

/**
 * Whether an output of kind `from` may feed an input of kind `to`. Kinds must match; shapes must agree where
 * both sides give a concrete number. Returns a reason when refused, for the editor's tooltip and diagnostics.
 */
export function canConnect(from: PortSpec, to: PortSpec): { ok: true } | { ok: false; reason: string } {
  if (from.kind !== to.kind) {
    return {
      ok: false,
      reason: `${PORT_KINDS[from.kind].label} output cannot feed a ${PORT_KINDS[to.kind].label} input`,
    };
  }
  if (from.shape && to.shape) {
    if (from.shape.length !== to.shape.length) {
      return { ok: false, reason: `shape [${from.shape.join(',')}] does not fit [${to.shape.join(',')}]` };
    }
    for (let i = 0; i < from.shape.length; i++) {
      const a = from.shape[i];
      const b = to.shape[i];
      if (typeof a === 'number' && typeof b === 'number' && a !== b) {
        return { ok: false, reason: `shape [${from.shape.join(',')}] does not fit [${to.shape.join(',')}]` };
      }
    }
  }
  return { ok: true };
}
