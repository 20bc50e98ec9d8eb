// @coser/server: the server, the local execution environment it shares with the CLI, and the command line itself.
// Explicit named exports only: anything not listed here is internal.

export { createProgram, main } from './cli/main';
export type { LocalEnvironment, LocalEnvironmentOptions } from './environment';
export { createLocalEnvironment, defaultModelsDir, findRepoRoot } from './environment';
export type { BlobStore, RunWorker, RunWorkerOptions } from './scale';
export { RedisRunQueue, redisServerOptions, SharedFolderStore, startRunWorker } from './scale';
export type { CoserServer, CreateServerOptions } from './server/create-server';
export { createServer } from './server/create-server';
export { type RemoteRunEvent, type RemoteRunOptions, type RemoteRunResult, runRemote } from './server/remote-client';
