import { randomUUID } from 'node:crypto';
import {
  CoserError,
  type Diagnostic,
  ERROR_CODES,
  type ErrorCode,
  type GraphFile,
  type RunEvent,
  type RunOutputs,
} from '@coser/runtime';

/** A run as `GET /api/runs/:id` describes it (the fields the CLI uses; see docs/server.md). */
export interface RemoteRunDetail {
  id: string;
  status: 'queued' | 'running' | 'done' | 'error' | 'cancelled' | 'interrupted';
  outputs?: RunOutputs;
  files?: { name: string; bytes: number; url: string }[];
  error?: { code: string; message: string; node?: string };
}

/** A stored run event: a RunEvent plus its per-run sequence number. */
export type RemoteEvent = RunEvent & { seq?: number };

/** An error answer of the server, with the diagnostics of a graph refused at submit. */
export class RemoteError extends CoserError {
  readonly diagnostics: readonly Diagnostic[];
  readonly status: number;

  constructor(code: ErrorCode, message: string, status: number, diagnostics: readonly Diagnostic[] = []) {
    super(code, message);
    this.diagnostics = diagnostics;
    this.status = status;
  }
}

/** The REST calls `coser run --server` makes (docs/server.md); every call carries the token. */
export interface RemoteClient {
  readonly url: string;
  upload(bytes: Uint8Array): Promise<{ name: string }>;
  submit(request: { graph: GraphFile; inputs: Record<string, unknown>; set: Record<string, unknown> }): Promise<{
    runId: string;
  }>;
  events(runId: string, after: number): Promise<RemoteEvent[]>;
  detail(runId: string): Promise<RemoteRunDetail>;
  download(runId: string, file: string): Promise<Uint8Array>;
  cancel(runId: string): Promise<void>;
}

/**
 * A client for one CLI invocation. Its client key (the run-ownership key of docs/server.md) is random, so only this
 * invocation can cancel the runs it submitted.
 */
export function createRemoteClient(serverUrl: string, token: string): RemoteClient {
  let base: URL;
  try {
    base = new URL(serverUrl);
  } catch {
    throw new CoserError('USAGE', `--server expects a URL such as http://127.0.0.1:8188, got "${serverUrl}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new CoserError('USAGE', `--server must be an http(s) URL, got "${serverUrl}"`);
  }
  const clientKey = randomUUID();
  const headers = { authorization: `Bearer ${token}`, 'x-coser-client': clientKey };
  const url = (path: string) => new URL(path, base).toString();

  async function call(method: string, path: string, body?: BodyInit, contentType?: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url(path), {
        method,
        headers: contentType ? { ...headers, 'content-type': contentType } : headers,
        ...(body !== undefined ? { body } : {}),
      });
    } catch (cause) {
      throw new CoserError('NOT_READY', `cannot reach the server at ${base.origin}: ${describeCause(cause)}`);
    }
    if (!response.ok) throw await toRemoteError(response);
    return response;
  }
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await call(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      'application/json',
    );
    return (await response.json()) as T;
  };

  return {
    url: base.origin,
    upload: async (bytes) =>
      (await call('POST', '/api/uploads', new Uint8Array(bytes), 'application/octet-stream').then((r) => r.json())) as {
        name: string;
      },
    submit: (request) => json<{ runId: string }>('POST', '/api/runs', request),
    events: async (runId, after) =>
      (await json<{ events: RemoteEvent[] }>('GET', `/api/runs/${encodeURIComponent(runId)}/events?after=${after}`))
        .events,
    detail: (runId) => json<RemoteRunDetail>('GET', `/api/runs/${encodeURIComponent(runId)}`),
    download: async (runId, file) => {
      const response = await call('GET', `/api/runs/${encodeURIComponent(runId)}/outputs/${encodeURIComponent(file)}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    cancel: async (runId) => {
      await call('DELETE', `/api/runs/${encodeURIComponent(runId)}`);
    },
  };
}

async function toRemoteError(response: Response): Promise<RemoteError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error =
    typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error
      ? (body.error as { code?: unknown; message?: unknown; diagnostics?: unknown })
      : {};
  const code = ERROR_CODES.find((c) => c === error.code) ?? (response.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL');
  const message = typeof error.message === 'string' ? error.message : `the server answered HTTP ${response.status}`;
  const diagnostics = Array.isArray(error.diagnostics) ? (error.diagnostics as Diagnostic[]) : [];
  return new RemoteError(code, message, response.status, diagnostics);
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? cause.cause.message : '';
    return inner || cause.message;
  }
  return String(cause);
}
