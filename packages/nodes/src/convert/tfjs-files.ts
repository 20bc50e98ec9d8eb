/**
 * Reads a TF.js layers-model from disk (Node only): model.json plus its weight shards, concatenated in manifest
 * order. Shard paths must stay inside the model's folder.
 */
import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { CoserError } from '@coser/runtime';
import type { TfjsModelJson } from './tfjs-layers';

export interface TfjsModelFiles {
  model: TfjsModelJson;
  /** Every shard's bytes, concatenated in manifest order. */
  weights: Uint8Array;
  /** The shard files read, in order (absolute paths). */
  shards: string[];
}

/**
 * Loads `model.json` and its shards.
 *
 * @example
 * const { model, weights } = await readTfjsModel('node_modules/@upscalerjs/esrgan-slim/models/x4/model.json');
 */
export async function readTfjsModel(modelJsonPath: string): Promise<TfjsModelFiles> {
  const text = await readFile(modelJsonPath, 'utf8').catch((cause: unknown) => {
    throw new CoserError('FILE_NOT_FOUND', `cannot read ${modelJsonPath}`, {}, { cause });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new CoserError('MODEL_CORRUPT', `${modelJsonPath} is not JSON`, {}, { cause });
  }
  if (!isModelJson(parsed)) throw new CoserError('MODEL_CORRUPT', `${modelJsonPath} is not a TF.js layers-model`);
  const folder = await realpath(dirname(modelJsonPath));
  const shards: string[] = [];
  for (const group of parsed.weightsManifest) {
    for (const p of group.paths) {
      const full = resolve(folder, p);
      const rel = relative(folder, full);
      if (isAbsolute(p) || rel.startsWith('..') || isAbsolute(rel))
        throw new CoserError('MODEL_FORBIDDEN', `weight shard ${p} is outside the model's folder`);
      shards.push(full);
    }
  }
  const parts = await Promise.all(shards.map((s) => readFile(s)));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const weights = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weights.set(p, offset);
    offset += p.length;
  }
  return { model: parsed, weights, shards };
}

function isModelJson(value: unknown): value is TfjsModelJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['modelTopology'] === 'object' &&
    Array.isArray(v['weightsManifest']) &&
    v['weightsManifest'].every(
      (g: unknown) =>
        typeof g === 'object' &&
        g !== null &&
        Array.isArray((g as Record<string, unknown>)['paths']) &&
        Array.isArray((g as Record<string, unknown>)['weights']),
    )
  );
}
