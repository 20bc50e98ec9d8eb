// @coser/nodes/node: pieces that need Node (fs, path, sharp). Never imported by the editor.

export { writeContractModelSet } from './coser/contract/generate';
export type { ModelResolver, NodeHostOptions } from './host/node-host';
export { createNodeHost } from './host/node-host';
export { decodeWithSharp, encodeWithSharp } from './host/sharp-codec';
export type { InstallStep } from './models/install';
export { INSTALL_STEPS } from './models/install';
export type { AddOptions, ModelListing, ModelStore, VerifyResult } from './models/model-store';
export { createModelStore } from './models/model-store';
