import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  CoserError,
  type Diagnostic,
  ERROR_CODES,
  type GraphFile,
  isCoserError,
  type RunEvent,
  type RunOutputs,
} from '@coser/runtime';
import { type RemoteRunEvent, runRemote } from '../../server/remote-client';
import { usageError } from '../errors';
import type { ItemOutcome, RunReporter } from '../reporters/types';
import type { RunItem } from '../run-inputs';

export interface RemoteBatchOptions {
  /** The server, e.g. `http://127.0.0.1:8188`. */
  readonly url: string;
  readonly token: string;
  readonly graph: GraphFile;
  readonly items: readonly RunItem[];
  readonly sets: Readonly<Record<string, unknown>>;
  readonly reporter: RunReporter;
  /** Aborting cancels the run in progress on the server and skips the rest. */
  readonly signal: AbortSignal;
  /** Local folder the output files end up in. */
  readonly outputDir: string;
  /** Local files a download must never replace (the inputs). */
  readonly protectedPaths: readonly string[];
}

/**
 * `coser run --server`: the same batch as a local run, executed by a server through `runRemote` (socket.io events,
 * resubscribing after a dropped connection). The CLI uploads each input itself so that it knows the upload's name:
 * the server keeps the file's name (`?name=`), and with a server that names uploads by random id only, downloaded
 * files get the local input's base name back wherever the server's file name holds that id (so `{name}` keeps its
 * local meaning either way).
 */
export async function runRemoteBatch(options: RemoteBatchOptions): Promise<ItemOutcome[]> {
  const url = checkServerUrl(options.url);
  // Input names the graph does not have are usage errors, found before anything is uploaded.
  for (const name of Object.keys(options.items[0]?.inputs ?? {})) {
    if (!Object.hasOwn(options.graph.inputs, name)) {
      const known = Object.keys(options.graph.inputs);
      throw usageError(`the graph has no input "${name}"; its inputs are: ${known.join(', ') || 'none'}`);
    }
  }
  const outcomes: ItemOutcome[] = [];
  for (const [index, item] of options.items.entries()) {
    if (options.signal.aborted) {
      outcomes.push({ item, status: 'cancelled', outputs: {} });
      continue;
    }
    options.reporter.beginItem(item, index, options.items.length);
    let outcome: ItemOutcome;
    try {
      outcome = await runRemoteItem(url, item, options);
    } catch (error) {
      if (!isCoserError(error)) throw error;
      const diagnostics = diagnosticsOf(error);
      options.reporter.onDiagnostics(item, diagnostics);
      const error_ = { code: error.code, message: error.message };
      outcome = { item, status: 'error', outputs: {}, error: error_, ...(diagnostics.length ? { diagnostics } : {}) };
    }
    options.reporter.endItem(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

async function runRemoteItem(url: string, item: RunItem, options: RemoteBatchOptions): Promise<ItemOutcome> {
  // Graph inputs become `node.param` values holding upload names, so the upload names stay known here.
  const set: Record<string, unknown> = { ...options.sets };
  const renames = new Map<string, string>();
  for (const [name, file] of Object.entries(item.inputs)) {
    const binding = Object.hasOwn(options.graph.inputs, name) ? options.graph.inputs[name] : undefined;
    if (!binding) {
      throw usageError(
        `the graph has no input "${name}"; its inputs are: ${Object.keys(options.graph.inputs).join(', ')}`,
      );
    }
    const uploaded = await upload(url, options.token, file);
    set[`${binding.node}.${binding.param}`] = uploaded;
    renames.set(stem(uploaded), stem(file));
  }

  const staging = path.join(options.outputDir, `.coser-download-${randomUUID().slice(0, 8)}`);
  try {
    const result = await runRemote({
      url,
      token: options.token,
      graph: options.graph,
      set,
      outputDir: staging,
      signal: options.signal,
      onEvent: (event) => {
        const local = toRunEvent(event);
        if (local) options.reporter.onEvent(local);
      },
    });
    const local = new Map<string, string>();
    for (const downloaded of result.outputs) {
      const target = path.join(options.outputDir, localName(path.basename(downloaded), renames));
      await moveOutput(downloaded, target, options.protectedPaths);
      local.set(path.basename(downloaded), target);
    }
    const status = result.status === 'done' ? 'done' : result.status === 'cancelled' ? 'cancelled' : 'error';
    return {
      item,
      status,
      runId: result.runId,
      outputs: localOutputs(result.runOutputs ?? {}, local),
      ...(status === 'error'
        ? { error: result.error ?? { code: 'CANCELLED', message: `the run ended as ${result.status}` } }
        : {}),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The events the reporters know: stored sequence numbers dropped; previews (PNG bytes here) left out. */
function toRunEvent(event: RemoteRunEvent): RunEvent | undefined {
  if (event.type === 'node:preview') return undefined;
  const { seq: _seq, ...rest } = event;
  return rest;
}

async function upload(url: string, token: string, file: string): Promise<string> {
  const bytes = await readFile(file);
  let response: Response;
  try {
    // ?name keeps the file's name on the server (its run history and outputs read as they do locally).
    response = await fetch(new URL(`/api/uploads?name=${encodeURIComponent(path.basename(file))}`, url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });
  } catch (cause) {
    throw new CoserError('NOT_READY', `cannot reach the server at ${url}`, {}, { cause });
  }
  const body = (await response.json().catch(() => undefined)) as
    | { name?: unknown; error?: { code?: unknown; message?: unknown } }
    | undefined;
  if (!response.ok || typeof body?.name !== 'string') {
    const code = ERROR_CODES.find((c) => c === body?.error?.code) ?? 'INTERNAL';
    const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}`;
    throw new CoserError(code, `upload of ${path.basename(file)} refused: ${message}`);
  }
  return body.name;
}

/** The run's output summaries with server file paths replaced by where the files were put locally. */
function localOutputs(outputs: RunOutputs, local: ReadonlyMap<string, string>): RunOutputs {
  const result: RunOutputs = {};
  for (const [node, ports] of Object.entries(outputs)) {
    const mapped: RunOutputs[string] = {};
    for (const [portName, summary] of Object.entries(ports)) {
      const downloaded = summary.kind === 'file' ? local.get(path.basename(summary.path)) : undefined;
      mapped[portName] = summary.kind === 'file' && downloaded ? { ...summary, path: downloaded } : summary;
    }
    result[node] = mapped;
  }
  return result;
}

/** The server's file name with upload ids replaced by the local inputs' names. */
function localName(serverName: string, renames: ReadonlyMap<string, string>): string {
  let name = serverName;
  for (const [uploadStem, localStem] of renames) name = name.split(uploadStem).join(localStem);
  return name;
}

/** Moves a downloaded file into place (a rename: atomic); never replaces an input nor writes through a link. */
async function moveOutput(from: string, target: string, protectedPaths: readonly string[]): Promise<void> {
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
  await rename(from, target);
}

function checkServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--server expects a URL such as http://127.0.0.1:8188, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--server must be an http(s) URL, got "${text}"`);
  }
  return url.origin;
}

/** A refused submission carries its diagnostics as the error's cause (runRemote). */
function diagnosticsOf(error: CoserError): Diagnostic[] {
  return Array.isArray(error.cause) ? (error.cause as Diagnostic[]) : [];
}

function stem(file: string): string {
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}
