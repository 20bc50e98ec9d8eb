// @coser/server: the local execution environment shared by the CLI and the server, and the command line itself.
// Explicit named exports only: anything not listed here is internal.

export { createProgram, main } from './cli/main';
export type { LocalEnvironment, LocalEnvironmentOptions } from './environment';
export { createLocalEnvironment, defaultModelsDir, findRepoRoot } from './environment';
