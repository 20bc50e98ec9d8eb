import type { AnyNodeDefinition, NodeRegistry, StaticInfo } from '@coser/runtime';
import { widgetsForParams } from '../graph/param-schema';

/**
 * A registry view in which nodes that read an uploaded image (a param with the `image-path` widget) know that
 * image's size, so `inferStaticInfo` can show output sizes through the whole graph before anything runs. The
 * node code itself is untouched: only `inferStatic` is answered from the upload's header.
 */
export function withUploadSizes(
  registry: NodeRegistry,
  sizeOf: (value: string) => { width: number; height: number } | undefined,
): NodeRegistry {
  const wrapped = new Map<string, AnyNodeDefinition>();
  for (const entry of registry.catalog()) {
    const pathParam = widgetsForParams(entry.params).find((w) => w.kind === 'image-path')?.key;
    const imagePort = Object.entries(entry.outputs).find(([, spec]) => spec.kind === 'image')?.[0];
    const definition = registry.get(entry.type);
    if (!pathParam || !imagePort || !definition) continue;
    const original = definition.inferStatic?.bind(definition);
    wrapped.set(entry.type, {
      ...definition,
      inferStatic(inputs: Record<string, StaticInfo | undefined>, params: Record<string, unknown>) {
        const value = params[pathParam];
        const size = typeof value === 'string' ? sizeOf(value) : undefined;
        const own = original ? original(inputs, params) : {};
        return size ? { ...own, [imagePort]: { ...size, ...own[imagePort] } } : own;
      },
    });
  }
  if (wrapped.size === 0) return registry;
  return {
    get: (type) => wrapped.get(type) ?? registry.get(type),
    has: (type) => registry.has(type),
    list: () => registry.list().map((d) => wrapped.get(d.type) ?? d),
    catalog: () => registry.catalog(),
  };
}
