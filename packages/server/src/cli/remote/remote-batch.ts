import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CoserError, type GraphFile, isCoserError, isFinalEvent, type RunEvent, type RunOutputs } from '@coser/runtime';
import type { ItemOutcome, RunReporter } from '../reporters/types';
import type { RunItem } from '../run-inputs';
import { type RemoteClient, RemoteError } from './remote-client';

export interface RemoteBatchOptions {
  readonly client: RemoteClient;
  readonly graph: GraphFile;
  readonly items: readonly RunItem[];
  readonly sets: Readonly<Record<string, unknown>>;
  readonly reporter: RunReporter;
  /** Aborting cancels the run in progress on the server and skips the rest. */
  readonly signal: AbortSignal;
  /** Local folder the run's output files are downloaded to. */
  readonly outputDir: string;
  /** Local files a download must never replace (the inputs). */
  readonly protectedPaths: readonly string[];
  /** How often to ask for new events (default 200 ms). */
  readonly pollMs?: number;
}

/**
 * `coser run --server`: the same batch as a local run, executed by a server. Each input file is uploaded, the graph
 * submitted with the upload names as inputs, the stored events followed (and shown by the same reporters), and the
 * output files downloaded. The server names uploads with random ids, so downloaded files get the local input's
 * base name back wherever the server's name holds the upload's id (`{name}` keeps its meaning).
 */
export async function runRemoteBatch(options: RemoteBatchOptions): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  for (const [index, item] of options.items.entries()) {
    if (options.signal.aborted) {
      outcomes.push({ item, status: 'cancelled', outputs: {} });
      continue;
    }
    options.reporter.beginItem(item, index, options.items.length);
    let outcome: ItemOutcome;
    try {
      outcome = await runRemoteItem(item, options);
    } catch (error) {
      if (!isCoserError(error)) throw error;
      if (error instanceof RemoteError) options.reporter.onDiagnostics(item, error.diagnostics);
      outcome = { item, status: 'error', outputs: {}, error: { code: error.code, message: error.message } };
    }
    options.reporter.endItem(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

async function runRemoteItem(item: RunItem, options: RemoteBatchOptions): Promise<ItemOutcome> {
  const { client, reporter, signal } = options;
  const inputs: Record<string, string> = {};
  const renames = new Map<string, string>();
  for (const [name, file] of Object.entries(item.inputs)) {
    const uploaded = await client.upload(new Uint8Array(await readFile(file)));
    inputs[name] = uploaded.name;
    renames.set(stem(uploaded.name), stem(file));
  }
  const { runId } = await client.submit({ graph: options.graph, inputs, set: { ...options.sets } });

  let final: RunEvent | undefined;
  let after = 0;
  let cancelSent = false;
  while (!final) {
    if (signal.aborted && !cancelSent) {
      cancelSent = true;
      await client.cancel(runId).catch(() => undefined);
    }
    for (const stored of await client.events(runId, after)) {
      const { seq, ...event } = stored;
      if (typeof seq === 'number') after = Math.max(after, seq);
      reporter.onEvent(event as RunEvent);
      if (isFinalEvent(event as RunEvent)) final = event as RunEvent;
    }
    if (!final) await sleep(options.pollMs ?? 200);
  }

  if (final.type !== 'run:done') {
    return {
      item,
      status: final.type === 'run:cancelled' ? 'cancelled' : 'error',
      runId,
      outputs: {},
      ...(final.type === 'run:error'
        ? { error: { code: final.code, message: final.message, ...(final.node ? { node: final.node } : {}) } }
        : {}),
    };
  }
  const detail = await client.detail(runId);
  const local = new Map<string, string>();
  for (const file of detail.files ?? []) {
    const target = path.join(options.outputDir, localName(file.name, renames));
    await writeDownload(target, await client.download(runId, file.name), options.protectedPaths);
    local.set(file.name, target);
  }
  return { item, status: 'done', runId, ms: final.ms, outputs: localOutputs(final.outputs, local) };
}

/** The run's output summaries with server file paths replaced by where the files were downloaded. */
function localOutputs(outputs: RunOutputs, local: ReadonlyMap<string, string>): RunOutputs {
  const result: RunOutputs = {};
  for (const [node, ports] of Object.entries(outputs)) {
    result[node] = {};
    for (const [portName, summary] of Object.entries(ports)) {
      const downloaded = summary.kind === 'file' ? local.get(path.basename(summary.path)) : undefined;
      result[node][portName] = summary.kind === 'file' && downloaded ? { ...summary, path: downloaded } : summary;
    }
  }
  return result;
}

/** The server's file name with upload ids replaced by the local inputs' names; never a path. */
function localName(serverName: string, renames: ReadonlyMap<string, string>): string {
  let name = path.basename(serverName);
  for (const [uploadStem, localStem] of renames) name = name.split(uploadStem).join(localStem);
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new CoserError('PATH_FORBIDDEN', `the server sent an output named ${JSON.stringify(serverName)}`);
  }
  return name;
}

/** Writes atomically (temp file + rename); refuses to replace an input or to write through a link. */
async function writeDownload(target: string, bytes: Uint8Array, protectedPaths: readonly string[]): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) {
    throw new CoserError('PATH_FORBIDDEN', `${target} is a symbolic link; refusing to write through it`);
  }
  if (existing) {
    const real = await realpath(target);
    const inputs = await Promise.all(protectedPaths.map((p) => realpath(p).catch(() => path.resolve(p))));
    if (inputs.includes(real)) {
      throw new CoserError('OUTPUT_OVERWRITES_INPUT', `output ${path.basename(target)} would overwrite an input`);
    }
  }
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID().slice(0, 8)}.tmp`);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

function stem(file: string): string {
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
