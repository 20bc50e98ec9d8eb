#!/usr/bin/env node
// The `coser` command. Sources run directly (no build step): tsx's loader compiles the TypeScript on import.
// Only tsx is registered here; every heavy module (onnxruntime, sharp) is imported inside the command that needs it
// so that `coser --help` and `coser validate` start quickly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv);
process.exitCode = code;
// Normally the process ends by itself once stdout/stderr are flushed. Should something still hold the event loop
// (a native pool, a stray handle), leave anyway shortly after: a finished command must not hang.
setTimeout(() => process.exit(code), 500).unref();
