import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Cross-origin isolation (COOP + COEP) turns on SharedArrayBuffer, which onnxruntime-web needs for its WASM threads.
 * Every server that serves the built editor (vite dev/preview, `coser serve`, the browser tests) sends both.
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * `COSER_SERVER=http://127.0.0.1:8188 npm run dev -w @coser/editor` forwards `/api` and socket.io to a running
 * `coser serve` (started with `--allow-origin http://localhost:5173`), so local runs find models and server mode
 * works from the dev server.
 */
const coserServer = process.env['COSER_SERVER'];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset URLs so the build works under any mount path (the server may serve it below /editor/).
  base: './',
  plugins: [react()],
  // onnxruntime-web re-spawns the worker's own script for its pthreads: only an ES-module worker can do that.
  worker: { format: 'es', rolldownOptions: { checks: { pluginTimings: false } } },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: {
    headers: isolationHeaders,
    fs: { allow: [repoRoot] },
    ...(coserServer ? { proxy: { '/api': coserServer, '/socket.io': { target: coserServer, ws: true } } } : {}),
  },
  preview: { headers: isolationHeaders },
  build: {
    outDir: 'dist',
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // The worker's bundle takes most of the build by design; rolldown's note about slow plugins (here and in
    // `worker`) is noise.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
