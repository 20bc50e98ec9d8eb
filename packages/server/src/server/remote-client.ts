import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Diagnostic, ErrorCode, RunEvent, RunOutputs } from '@coser/runtime';
import { CoserError, ERROR_CODES } from '@coser/runtime';
import { io, type Socket } from 'socket.io-client';
import type { PreviewPngEvent } from './socket/preview-png';
import type { RunErrorInfo, RunStatus } from './types';

/** Events as a remote run reports them: previews arrive as PNG bytes instead of float planes. */
export type RemoteRunEvent = (Exclude<RunEvent, { type: 'node:preview' }> & { seq?: number }) | PreviewPngEvent;

export interface RemoteRunOptions {
  /** The server, e.g. `http://127.0.0.1:8188`. */
  url: string;
  token: string;
  /** The graph file, parsed or as JSON text. */
  graph: unknown;
  /** Graph input name -> local file path; each file is uploaded first and the run gets its upload name. */
  inputs?: Record<string, string>;
  /** `node.param` -> value, as for a local run. */
  set?: Record<string, unknown>;
  /**
   * Every event of the run, in order, each once, also across reconnects. A run that ended (or passed the server's
   * stored-progress cap) while the connection was down replays its progress compacted: the `seq`s skip the steps
   * a later progress of the same node superseded.
   */
  onEvent?: (event: RemoteRunEvent) => void;
  /** Output files are downloaded here (created when missing). */
  outputDir: string;
  /** Aborting cancels the run on the server. */
  signal?: AbortSignal;
  /** Identifies this client as the run's owner (default: random per call). */
  clientKey?: string;
  /** Called with the socket once connected (diagnostics and tests). */
  onConnect?: (socket: Socket) => void;
}

export interface RemoteRunResult {
  runId: string;
  status: RunStatus;
  /** Local paths of the downloaded output files. */
  outputs: string[];
  /** The run's output summaries (file paths relative to the server's run folder). */
  runOutputs: RunOutputs;
  error?: RunErrorInfo;
}

interface Ack {
  ok: boolean;
  code?: string;
  message?: string;
  diagnostics?: Diagnostic[];
  runId?: string;
  status?: RunStatus;
  events?: RemoteRunEvent[];
}

function toCode(code: unknown): ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)
    ? (code as ErrorCode)
    : 'INTERNAL';
}

function isFinal(event: RemoteRunEvent): boolean {
  return event.type === 'run:done' || event.type === 'run:error' || event.type === 'run:cancelled';
}

/** A REST call with the token; a JSON error body becomes a CoserError with its code. */
async function api(base: string, token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(new URL(path, base), {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  }).catch((cause: unknown) => {
    throw new CoserError('NOT_READY', `cannot reach the server at ${base}: ${String(cause)}`, {}, { cause });
  });
  if (response.ok) return response;
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined;
  throw new CoserError(toCode(body?.error?.code), body?.error?.message ?? `HTTP ${response.status} for ${path}`);
}

/**
 * Runs a graph on a CoSeR server (`coser run GRAPH --server URL --token T`): uploads the local input files, submits
 * over socket.io, reports every event (resubscribing after a dropped connection, so none is lost or repeated),
 * then downloads the output files into `outputDir`.
 *
 * Throws CoserError for what stops the run from starting: UNAUTHORIZED / FORBIDDEN_ORIGIN, upload refusals
 * (IMAGE_*), validation codes (with the diagnostics as the error's `cause`), QUEUE_FULL. A run that starts and
 * fails resolves with `status: 'error'` and its `error`.
 *
 * @example
 * const result = await runRemote({
 *   url: 'http://127.0.0.1:8188', token, graph: JSON.parse(text), inputs: { image: 'photo.png' },
 *   outputDir: 'out', onEvent: (e) => console.log(e.type),
 * });
 */
export async function runRemote(options: RemoteRunOptions): Promise<RemoteRunResult> {
  const base = options.url.replace(/\/+$/, '');
  const inputs: Record<string, string> = {};
  for (const [name, file] of Object.entries(options.inputs ?? {})) {
    const bytes = await readFile(file).catch((cause: unknown) => {
      throw new CoserError('FILE_NOT_FOUND', `input ${name}: cannot read ${file}`, {}, { cause });
    });
    // The server keeps the file's name, so outputs named `{name}` are called after the local file.
    const response = await api(base, options.token, `/api/uploads?name=${encodeURIComponent(basename(file))}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    inputs[name] = ((await response.json()) as { name: string }).name;
  }

  const socket = io(base, {
    auth: { token: options.token, clientKey: options.clientKey ?? randomBytes(16).toString('hex') },
    transports: ['websocket'],
    reconnectionDelay: 200,
    reconnectionDelayMax: 2000,
  });
  try {
    const final = await followRun(socket, options, inputs);
    const detail = (await (await api(base, options.token, `/api/runs/${final.runId}`)).json()) as {
      status: RunStatus;
      error?: RunErrorInfo;
      outputs: RunOutputs;
      files: { name: string; url: string }[];
    };
    const outputs: string[] = [];
    if (detail.files.length > 0) await mkdir(options.outputDir, { recursive: true });
    for (const file of detail.files) {
      if (file.name.split('/').some((part) => part === '' || part === '.' || part === '..')) continue;
      const bytes = new Uint8Array(await (await api(base, options.token, file.url)).arrayBuffer());
      const target = join(options.outputDir, ...file.name.split('/'));
      await mkdir(dirname(target), { recursive: true });
      // Atomic, like the server's own writes: a crash never leaves half a file under the final name.
      const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, bytes);
      await rename(temp, target);
      outputs.push(target);
    }
    return {
      runId: final.runId,
      status: detail.status,
      outputs,
      runOutputs: detail.outputs,
      ...(detail.error ? { error: detail.error } : {}),
    };
  } finally {
    socket.close();
  }
}

/** Submits and follows one run to its final event. */
function followRun(
  socket: Socket,
  options: RemoteRunOptions,
  inputs: Record<string, string>,
): Promise<{ runId: string }> {
  return new Promise((resolve, reject) => {
    let runId: string | undefined;
    let lastSeq = 0;
    let submitted = false;
    let finished = false;
    const early: RemoteRunEvent[] = [];

    const deliver = (event: RemoteRunEvent) => {
      if (finished || event.runId !== runId) return;
      if ('seq' in event && typeof event.seq === 'number') {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
      }
      try {
        options.onEvent?.(event);
      } catch {
        // A broken listener must not lose the run's result.
      }
      if (isFinal(event)) {
        finished = true;
        resolve({ runId: event.runId });
      }
    };
    // Before the submit's ack, and while resubscribing after a reconnect, live events wait here: the replay must
    // come first or the lower sequence numbers it carries would look like duplicates.
    let resyncing = false;
    socket.on('run:event', (event: RemoteRunEvent) => {
      if (runId === undefined || resyncing) early.push(event);
      else deliver(event);
    });
    socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
      // Refusals are final; anything else (server restarting) is retried by socket.io.
      if (error.data?.code || error.message === 'UNAUTHORIZED' || error.message === 'FORBIDDEN_ORIGIN') {
        finished = true;
        reject(new CoserError(toCode(error.data?.code ?? error.message), error.data?.message ?? error.message));
      }
    });
    socket.on('connect', () => {
      options.onConnect?.(socket);
      if (!submitted) {
        submitted = true;
        submit();
      } else if (runId !== undefined && !finished) {
        // A reconnect: fetch what was missed, then the live events that arrived meanwhile.
        resyncing = true;
        void socket
          .timeout(30_000)
          .emitWithAck('run:subscribe', { runId, after: lastSeq })
          .then((ack: Ack) => {
            for (const event of ack.events ?? []) deliver(event);
          })
          .catch(() => undefined)
          .finally(() => {
            resyncing = false;
            for (const event of early.splice(0)) deliver(event);
          });
      }
    });
    options.signal?.addEventListener('abort', () => {
      if (runId !== undefined) socket.emit('run:cancel', { runId }, () => {});
    });

    function submit(): void {
      socket
        .timeout(60_000)
        .emitWithAck('run:submit', { graph: options.graph, inputs, set: options.set ?? {} })
        .then((ack: Ack) => {
          if (!ack.ok || !ack.runId) {
            finished = true;
            reject(
              new CoserError(
                toCode(ack.code),
                ack.message ?? 'the server refused the run',
                {},
                { cause: ack.diagnostics ?? [] },
              ),
            );
            return;
          }
          runId = ack.runId;
          for (const event of early.splice(0)) deliver(event);
          if (options.signal?.aborted) socket.emit('run:cancel', { runId }, () => {});
        })
        .catch((cause: unknown) => {
          finished = true;
          reject(new CoserError('NOT_READY', `the server did not answer the submission: ${String(cause)}`));
        });
    }
  });
}
