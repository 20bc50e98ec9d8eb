/**
 * Turns the catalog's JSON Schema for a node's params into widget descriptions. Pure data in, data out: the React
 * widgets render these, and the tests check the mapping without a DOM.
 */

/** One JSON Schema node as zod's `toJSONSchema` writes it (only the fields the editor reads). */
export interface JsonSchema {
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  anyOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  maxLength?: number;
  default?: unknown;
  description?: string;
  title?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  /** Editor hint set by node authors with `.meta({ widget: '...' })`. */
  widget?: string;
  /** Extra hint for model pickers: the task the model must serve. */
  task?: string;
  /** Set by node authors with `.meta({ appliesWhen: { mode: ['size'] } })`: the param matters only then. */
  appliesWhen?: Record<string, readonly unknown[]>;
}

export type WidgetKind =
  | 'slider'
  | 'number'
  | 'select'
  | 'checkbox'
  | 'text'
  | 'textarea'
  | 'model'
  | 'model-set'
  | 'image-path'
  | 'choice-or-number'
  | 'json';

/** How one param is edited. */
export interface WidgetSpec {
  key: string;
  kind: WidgetKind;
  label: string;
  description?: string;
  defaultValue?: unknown;
  min?: number;
  max?: number;
  step?: number;
  integer?: boolean;
  /** Choices of a select (or the named choices of choice-or-number). */
  options?: readonly (string | number)[];
  maxLength?: number;
  task?: string;
  /** Other params' values for which this one is used (any of the listed values of each); absent: always. */
  appliesWhen?: Readonly<Record<string, readonly unknown[]>>;
}

/** Sliders only where the range is small enough to pick a value by dragging. */
const SLIDER_MAX_STEPS = 10_000;

/** Widgets for every param of a node, in the schema's property order. */
export function widgetsForParams(schema: JsonSchema | Record<string, unknown>): WidgetSpec[] {
  const properties = (schema as JsonSchema).properties ?? {};
  return Object.entries(properties).map(([key, property]) => widgetFor(key, property));
}

/** The widget for one param. */
export function widgetFor(key: string, schema: JsonSchema): WidgetSpec {
  const base: WidgetSpec = {
    key,
    kind: 'json',
    label: schema.title ?? humanize(key),
    ...(schema.description ? { description: schema.description } : {}),
    ...(schema.default !== undefined ? { defaultValue: schema.default } : {}),
    ...(isAppliesWhen(schema.appliesWhen) ? { appliesWhen: schema.appliesWhen } : {}),
  };
  if (schema.widget === 'model') return { ...base, kind: 'model', ...(schema.task ? { task: schema.task } : {}) };
  if (schema.widget === 'model-set') return { ...base, kind: 'model-set' };
  if (schema.widget === 'image-path') return { ...base, kind: 'image-path' };
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return { ...base, ...fromVariants(variants) };
  const enumValues = choicesOf(schema);
  if (enumValues) return { ...base, kind: 'select', options: enumValues };
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'boolean') return { ...base, kind: 'checkbox' };
  if (type === 'integer' || type === 'number') return { ...base, ...numberWidget(schema, type === 'integer') };
  if (type === 'string') {
    const long = schema.widget === 'textarea' || schema.widget === 'prompt' || (schema.maxLength ?? 0) > 200;
    return {
      ...base,
      kind: long ? 'textarea' : 'text',
      ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
    };
  }
  return base;
}

function numberWidget(schema: JsonSchema, integer: boolean): Partial<WidgetSpec> {
  const min = schema.minimum ?? schema.exclusiveMinimum;
  const max = schema.maximum ?? schema.exclusiveMaximum;
  const step = schema.multipleOf ?? (integer ? 1 : undefined);
  const bounded = min !== undefined && max !== undefined && Number.isFinite(min) && Number.isFinite(max);
  if (bounded && schema.widget !== 'number') {
    const sliderStep = step ?? niceStep(max - min);
    if ((max - min) / sliderStep <= SLIDER_MAX_STEPS) {
      return { kind: 'slider', min, max, step: sliderStep, integer };
    }
  }
  return {
    kind: 'number',
    integer,
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(step !== undefined ? { step } : {}),
  };
}

/** `number | 'auto'` style params: a select of the named choices plus a number field. */
function fromVariants(variants: readonly JsonSchema[]): Partial<WidgetSpec> {
  const choices: (string | number)[] = [];
  let numeric: JsonSchema | undefined;
  for (const variant of variants) {
    const c = choicesOf(variant);
    if (c) choices.push(...c);
    else if (variant.type === 'integer' || variant.type === 'number') numeric = variant;
    else if (variant.type === 'null') continue;
    else return { kind: 'json' };
  }
  if (numeric) {
    const n = numberWidget({ ...numeric, widget: 'number' }, numeric.type === 'integer');
    return { ...n, kind: 'choice-or-number', options: choices };
  }
  return choices.length > 0 ? { kind: 'select', options: choices } : { kind: 'json' };
}

function choicesOf(schema: JsonSchema): (string | number)[] | undefined {
  const values = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
  if (!values) return undefined;
  const plain = values.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  return plain.length === values.length ? plain : undefined;
}

function niceStep(range: number): number {
  if (range <= 0) return 1;
  return 10 ** Math.floor(Math.log10(range) - 2);
}

/** `tileSize` -> `Tile size`. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** The params a new node starts with: every schema default. */
export function defaultParams(schema: JsonSchema | Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, property] of Object.entries((schema as JsonSchema).properties ?? {})) {
    if (property.default !== undefined) params[key] = structuredClone(property.default);
  }
  return params;
}

/**
 * A number edit as the param's value: integers rounded, NaN/Infinity keep the previous value. Values outside the
 * bounds are kept as typed (never clamped silently): the field shows them with their bounds ({@link outOfBounds})
 * and validation refuses the run until they are fixed.
 */
export function coerceNumber(spec: WidgetSpec, raw: number, previous: unknown): unknown {
  if (!Number.isFinite(raw)) return previous;
  return spec.integer ? Math.round(raw) : raw;
}

/** `"100 is outside 0.01 – 16"` when a number value is outside the widget's bounds, else undefined. */
export function outOfBounds(spec: WidgetSpec, value: unknown): string | undefined {
  if (typeof value !== 'number' || (spec.min === undefined && spec.max === undefined)) return undefined;
  const below = spec.min !== undefined && value < spec.min;
  const above = spec.max !== undefined && value > spec.max;
  if (!below && !above) return undefined;
  if (spec.min !== undefined && spec.max !== undefined) return `${value} is outside ${spec.min} – ${spec.max}`;
  return below ? `${value} is below the minimum ${spec.min}` : `${value} is above the maximum ${spec.max}`;
}

/**
 * Whether a param is used with the node's current params (its `appliesWhen` hint), reading each other param's
 * value, or its default when the node leaves it out. Resize hides Width/Height in mode "scale", for instance.
 */
export function widgetApplies(
  spec: WidgetSpec,
  params: Readonly<Record<string, unknown>>,
  defaults: Readonly<Record<string, unknown>>,
): boolean {
  if (!spec.appliesWhen) return true;
  return Object.entries(spec.appliesWhen).every(([other, values]) =>
    values.includes(other in params ? params[other] : defaults[other]),
  );
}

function isAppliesWhen(value: unknown): value is Record<string, readonly unknown[]> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => Array.isArray(v))
  );
}
