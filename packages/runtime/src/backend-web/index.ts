// Browser entry point (`@coser/runtime/backend-web`): onnxruntime-web behind the InferenceBackend interface.
export type { WebBackendOptions } from './web-backend';
export { createWebBackend } from './web-backend';
