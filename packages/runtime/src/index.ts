// The runtime core: plain TypeScript, no DOM, no Node built-ins, no onnxruntime (those live in backend-node and
// backend-web). Explicit named exports only: anything not listed here is internal.

export type {
  InferenceBackend,
  InferenceSession,
  ModelSource,
  RunOptions,
  TensorInfo,
} from './backend/inference-backend';
export type { OutputSummary, RunEvent, RunEventType, RunOutputs } from './engine/events';
export { isFinalEvent } from './engine/events';
export type { ExecuteOptions, ExecutionEnv, RunResult } from './engine/executor';
export { executeGraph } from './engine/executor';
export type { DecodeOptions, EncodeOptions, Host, ImageFormat, InputFacts, ResolvedModel } from './engine/host';
export type { RunError } from './engine/map-error';
export { toRunError } from './engine/map-error';
export type {
  AnyNodeDefinition,
  CheckContext,
  ExecuteContext,
  InputValues,
  NodeDefinition,
  OutputValues,
  PortMap,
  RunInfo,
  RuntimeLimits,
  StaticInputs,
} from './engine/node-definition';
export { DEFAULT_LIMITS, defineNode } from './engine/node-definition';
export type { CachedOutputs, OutputCache, OutputCacheOptions } from './engine/output-cache';
export { createOutputCache, estimateBytes } from './engine/output-cache';
export type { TopologicalResult } from './engine/planner';
export { describeCycle, planExecution, topologicalSort } from './engine/planner';
export type { CatalogEntry, NodeRegistry } from './engine/registry';
export { createRegistry } from './engine/registry';
export { summarizeValue } from './engine/summarize';
export type { Diagnostic, ErrorCode, ErrorLocation } from './errors';
export { CoserError, ERROR_CODES, hasErrors, isCoserError } from './errors';
export type { GraphInputValues } from './graph/apply-inputs';
export { applyGraphInputs, parseParamValue } from './graph/apply-inputs';
export { canonicalJson, sha256Hex } from './graph/canonical';
export type { LoadGraphOptions, LoadGraphResult } from './graph/load-graph';
export { loadGraph, MAX_GRAPH_BYTES, MAX_GRAPH_DEPTH } from './graph/load-graph';
export type { GraphMigration, RawGraph } from './graph/migrations';
export { GRAPH_MIGRATIONS, migrateGraph, migrateNodeParams } from './graph/migrations';
export { parseNodeParams } from './graph/params';
export type {
  LoadedModelRef,
  ModelSetRef,
  PortKind,
  PortOptions,
  PortSpec,
  PortSpecOf,
  PortValueMap,
  StaticInfo,
} from './graph/ports';
export { canConnect, PORT_KINDS, port } from './graph/ports';
export type { GraphEdge, GraphFile, GraphInput, GraphNode } from './graph/schema';
export {
  GRAPH_FORMAT,
  GRAPH_VERSION,
  graphEdgeSchema,
  graphFileSchema,
  graphInputSchema,
  graphNodeSchema,
} from './graph/schema';
export type { ValidateOptions } from './graph/validate';
export { checkGraph, DEFAULT_MAX_NODES, inferStaticInfo, pixelCapDiagnostics, validateGraph } from './graph/validate';
export type { ImageBuffer, ImageMeta } from './image/image-buffer';
export { createImage, mergeMeta, plane } from './image/image-buffer';
export type { Tensor, TensorDataMap, TensorDType } from './image/tensor';
export { float32Tensor, int64Tensor, tensorSize } from './image/tensor';
export type { TileRect, TileSpans } from './tiling/plan-tiles';
export { planTiles, tileSpans } from './tiling/plan-tiles';
export type { TileSizeContext } from './tiling/resolve-tile-size';
export { MAX_TILE_SIZE, MIN_TILE_SIZE, resolveTileSize, tileWorkingBytes } from './tiling/resolve-tile-size';
export type { TileImageOptions } from './tiling/tile-image';
export { cropImage, tileImage } from './tiling/tile-image';
