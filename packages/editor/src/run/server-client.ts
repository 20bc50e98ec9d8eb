import type { Diagnostic, RunEvent } from '@coser/runtime';
import { isFinalEvent } from '@coser/runtime';
import { io, type Socket } from 'socket.io-client';
import type { ModelListing } from '../worker/model-loader';
import { type ModelList, type RunClient, RunRefused } from './run-client';
import type { UiRunEvent } from './run-state';
import { type CatalogueModel, type InstallState, NOT_AUTHORISED } from './server-models';

export interface ServerSettings {
  /** The server's origin; the page's own origin when the server serves the editor. */
  url: string;
  token: string;
  /** A random key kept in localStorage: it makes this browser the owner of its runs (see docs/server.md). */
  clientKey: string;
}

export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'disconnected'; reason: string }
  | { state: 'refused'; code: string; message: string };

/** What the server sends on `run:event`: a run event plus its per-run sequence number. */
type SeqEvent =
  | (Exclude<RunEvent, { type: 'node:preview' }> & { seq: number })
  | {
      type: 'node:preview';
      runId: string;
      node: string;
      width: number;
      height: number;
      png: ArrayBuffer;
      seq?: number;
    };

type Ack =
  | { ok: true; [key: string]: unknown }
  | { ok: false; code: string; message: string; diagnostics?: Diagnostic[] };

export interface ServerRunClient extends RunClient {
  readonly target: 'server';
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
  /** Starts watching a run again (after a reload): replays its stored events, then live ones. */
  watch(runId: string): Promise<void>;
  /** The server's model catalogue with what is installed and any install under way. */
  modelCatalogue(): Promise<CatalogueModel[]>;
  /** Starts installing a catalogue model on the server (or joins its running install). */
  installModel(name: string): Promise<InstallState>;
  /** Every install step and end on the server (any client's installs). */
  onModelInstall(listener: (state: InstallState) => void): () => void;
}

/** Runs graphs on `coser serve` over socket.io, with REST for uploads, models and output files. */
export function createServerRunClient(settings: ServerSettings): ServerRunClient {
  const base = settings.url.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${settings.token}`, 'x-coser-client': settings.clientKey };
  const listeners = new Set<(event: UiRunEvent) => void>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();
  const installListeners = new Set<(state: InstallState) => void>();
  /** Runs being watched -> the last `seq` seen; finished runs are dropped. */
  const watched = new Map<string, number>();
  let status: ConnectionStatus = { state: 'connecting' };
  let submitsInFlight = 0;
  const early: SeqEvent[] = [];

  const socket: Socket = io(base, { auth: { token: settings.token, clientKey: settings.clientKey } });
  const setStatus = (next: ConnectionStatus) => {
    status = next;
    for (const listener of statusListeners) listener(next);
  };
  const emit = (event: UiRunEvent) => {
    for (const listener of listeners) listener(event);
  };

  socket.on('connect', () => {
    setStatus({ state: 'connected' });
    // After a lost connection, pick every unfinished run up where we left it.
    for (const [runId, after] of watched) void subscribe(runId, after);
  });
  socket.on('disconnect', (reason) => setStatus({ state: 'disconnected', reason: String(reason) }));
  socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
    const code = error.data?.code ?? error.message;
    if (code === 'UNAUTHORIZED') {
      setStatus({ state: 'refused', code, message: NOT_AUTHORISED });
    } else if (code === 'FORBIDDEN_ORIGIN') {
      setStatus({ state: 'refused', code, message: error.data?.message ?? error.message });
    } else {
      setStatus({ state: 'disconnected', reason: error.message });
    }
  });
  socket.on('run:event', (event: SeqEvent) => void receive(event));
  socket.on('model:install', (state: InstallState) => {
    for (const listener of installListeners) listener(state);
  });

  async function receive(event: SeqEvent): Promise<void> {
    const last = watched.get(event.runId);
    if (last === undefined) {
      // The server joins the submitting socket to its run before acking: early events wait for the ack here.
      if (submitsInFlight > 0) early.push(event);
      return;
    }
    if (event.type === 'node:preview') {
      const blob = new Blob([event.png], { type: 'image/png' });
      emit({
        type: 'node:preview',
        runId: event.runId,
        node: event.node,
        url: URL.createObjectURL(blob),
        width: event.width,
        height: event.height,
      });
      return;
    }
    // A resubscribe replays stored events: skip those already seen.
    if (event.seq <= last) return;
    watched.set(event.runId, event.seq);
    const { seq: _seq, ...runEvent } = event;
    if (isFinalEvent(runEvent)) watched.delete(event.runId);
    emit(runEvent);
    if (runEvent.type === 'run:done') await fetchFiles(runEvent.runId);
  }

  async function subscribe(runId: string, after: number): Promise<void> {
    const ack = (await socket.emitWithAck('run:subscribe', { runId, after })) as Ack & { events?: SeqEvent[] };
    if (!ack.ok) {
      watched.delete(runId);
      emit({ type: 'run:error', runId, code: ack.code as 'RUN_NOT_FOUND', message: ack.message });
      return;
    }
    for (const event of ack.events ?? []) await receive(event);
  }

  async function fetchFiles(runId: string): Promise<void> {
    const response = await fetch(`${base}/api/runs/${encodeURIComponent(runId)}`, { headers });
    if (!response.ok) return;
    const detail = (await response.json()) as { files?: { name: string; url: string }[] };
    for (const file of detail.files ?? []) {
      const data = await fetch(new URL(file.url, `${base}/`), { headers });
      if (!data.ok) continue;
      const blob = await data.blob();
      emit({
        type: 'run:file',
        runId,
        file: { name: file.name, url: URL.createObjectURL(blob), bytes: blob.size, mime: blob.type },
      });
    }
  }

  async function rest<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
    const body = (await response.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
    // A missing or wrong token is never reported as something else (an empty model list, "not installed").
    if (response.status === 401) throw new RunRefused('UNAUTHORIZED', NOT_AUTHORISED);
    if (!response.ok) {
      throw new RunRefused(body.error?.code ?? `HTTP_${response.status}`, body.error?.message ?? response.statusText);
    }
    return body;
  }

  return {
    target: 'server',
    async submit(graph) {
      if (status.state === 'refused') throw new RunRefused(status.code, status.message);
      if (!socket.connected) throw new RunRefused('NOT_READY', `not connected to ${base}`);
      submitsInFlight++;
      let ack: Ack & { runId?: string };
      try {
        ack = (await socket.emitWithAck('run:submit', { graph })) as Ack & { runId?: string };
      } finally {
        submitsInFlight--;
      }
      if (!ack.ok) throw new RunRefused(ack.code, ack.message, ack.diagnostics ?? []);
      const runId = String(ack.runId);
      if (!watched.has(runId)) watched.set(runId, 0);
      const mine = early.filter((e) => e.runId === runId);
      if (submitsInFlight === 0) early.length = 0;
      // Replayed through the normal path (seq de-duplication; the run state adopts the id from its first event).
      queueMicrotask(() => {
        for (const event of mine) void receive(event);
      });
      return runId;
    },
    async cancel(runId) {
      const ack = (await socket.emitWithAck('run:cancel', { runId })) as Ack;
      if (!ack.ok) throw new RunRefused(ack.code, ack.message);
    },
    async watch(runId) {
      watched.set(runId, watched.get(runId) ?? 0);
      if (socket.connected) await subscribe(runId, watched.get(runId) ?? 0);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async uploadImage(name, bytes) {
      // The server keeps the file's name (UUID/photo.png), so outputs named `{name}` are called after it.
      const result = await rest<{ name: string }>(`/api/uploads?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        body: bytes as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'application/octet-stream' },
      });
      return result.name;
    },
    async listModels(): Promise<ModelList> {
      try {
        return { models: await rest<ModelListing[]>('/api/models') };
      } catch (cause) {
        const refused = cause instanceof RunRefused ? cause : new RunRefused('NOT_READY', String(cause));
        return { models: [], problem: { code: refused.code, message: refused.message } };
      }
    },
    modelCatalogue: async () => (await rest<{ models: CatalogueModel[] }>('/api/models/catalogue')).models,
    installModel: async (name) =>
      (await rest<{ install: InstallState }>(`/api/models/${encodeURIComponent(name)}/install`, { method: 'POST' }))
        .install,
    onModelInstall(listener) {
      installListeners.add(listener);
      return () => installListeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      listener(status);
      return () => statusListeners.delete(listener);
    },
    dispose() {
      socket.close();
    },
  };
}
