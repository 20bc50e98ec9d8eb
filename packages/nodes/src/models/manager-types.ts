/**
 * The model manager's listing and installs as data (browser-safe types): what `coser serve` answers on
 * `GET /api/models/catalogue` and `POST /api/models/:name/install` and sends as `model:install`, and what the editor
 * reads. See docs/server.md ("Installing models").
 */
import type { ErrorCode } from '@coser/runtime';

/** A step of a model install, reported as it starts (`fetch` the weights, `convert` to ONNX, `write` the file). */
export interface InstallProgress {
  step: 'fetch' | 'convert' | 'write';
  /** Index of the step (1-based) and how many there are. */
  index: number;
  count: number;
}

/** Where one model's install stands. */
export interface InstallState {
  name: string;
  state: 'running' | 'done' | 'error';
  startedAt: string;
  finishedAt?: string;
  /** The step running now (absent before the first one starts and after the end). */
  progress?: InstallProgress;
  /** The latest progress line, e.g. "fetching @upscalerjs/esrgan-thick@1.0.0 from the npm registry". */
  message?: string;
  /** Once done: the installed file. */
  sizeBytes?: number;
  sha256?: string;
  error?: { code: ErrorCode; message: string };
}

/** A catalogue model (or an imported one), installed or not. */
export interface CatalogueModel {
  name: string;
  title: string;
  description: string;
  scale: number;
  licence: string;
  /** Approximate download of its source package (0: it ships with the install). */
  downloadMB: number;
  /** Part of the set `npm install` converts. */
  default: boolean;
  /** False for models imported with `coser models add FILE.onnx` (they cannot be installed again here). */
  inCatalogue: boolean;
  installed: boolean;
  /** Of the installed ONNX file. */
  sizeBytes?: number;
  sha256?: string;
  /** The newest install of it since the server started. */
  install?: InstallState;
}
