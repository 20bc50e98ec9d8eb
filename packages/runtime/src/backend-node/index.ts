// Node entry point (`@coser/runtime/backend-node`): onnxruntime-node behind the InferenceBackend interface.
export type { NodeBackendOptions } from './node-backend';
export { createNodeBackend } from './node-backend';
