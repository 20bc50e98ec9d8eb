import { chmod, mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeLimits } from '@coser/runtime';
import { DEFAULT_LIMITS } from '@coser/runtime';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Server as SocketServer } from 'socket.io';
import { findRepoRoot } from '../repo-root';
import { type EditorBuild, editorBuildStatus, editorMissingPage } from './editor-build';
import { createApiRouter } from './http/api-routes';
import { sendError } from './http/errors';
import {
  allowedOriginSet,
  loadOrCreateToken,
  originAllowed,
  originGuard,
  securityHeaders,
  tokenGuard,
} from './http/security';
import { ModelInstalls } from './model-installs';
import type { RunQueue } from './queue/run-queue';
import { SqliteRunQueue } from './queue/sqlite-run-queue';
import type { RunEngine } from './run-engine';
import { RunScheduler, type SchedulerOptions } from './run-scheduler';
import { TokenBucket } from './socket/rate-limit';
import { attachSocketProtocol } from './socket/socket-protocol';

// Searched for rather than fixed relative to this file: the bundled command line (dist/cli) lives elsewhere.
const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();

export interface CreateServerOptions {
  /** Address to bind (default 127.0.0.1). Anything else makes the server reachable by others. */
  host?: string;
  /** Port (default 0: any free one; `url` tells which). */
  port?: number;
  /** Queue database, token, uploads and run outputs. */
  dataDir: string;
  /** Installed models (default: the engine's default). */
  modelsDir?: string;
  /** The token; default `COSER_TOKEN`, else the one in `dataDir/token`, else a new one. */
  token?: string;
  /** Browser origins allowed besides the server's own (e.g. a Vite dev server). */
  allowedOrigins?: readonly string[];
  /** Runs at a time (default 1). */
  concurrency?: number;
  /** Queued runs at most (default 100); more is QUEUE_FULL. */
  queueCap?: number;
  /** Finished runs kept in history (default 1000). */
  historyLimit?: number;
  limits?: Partial<RuntimeLimits>;
  /** JSON bodies and socket.io messages (default 2 MiB). */
  maxBodyBytes?: number;
  /** Uploaded images (default 50 MiB). */
  maxUploadBytes?: number;
  /**
   * The built editor to serve (default packages/editor/dist, checked against its sources; false: none). While it is
   * not built, `/` answers a page saying how to build it.
   */
  editorDir?: string | false;
  /** Preset graphs (default the repository's graphs/). */
  presetsDir?: string;
  /** Socket rate limits (see docs/server.md). */
  socket?: { messagesPerSecond?: number; messageBurst?: number; floodDisconnectAfter?: number };
  /** REST requests per second per address (default 50, bursts of 200). */
  restPerSecond?: number;
  /** The runtime seam; default: the real registry, node host and executor (`createDefaultEngine`). */
  engine?: RunEngine;
  /** The run queue; default SQLite in `dataDir/runs.db` (`coser serve --redis` passes a Redis one, docs/scaling.md). */
  queue?: RunQueue;
  /** Builds the scheduler; default `new RunScheduler(options)` (`--redis`: one that hands runs to workers). */
  createScheduler?: (options: SchedulerOptions) => RunScheduler;
  log?: (message: string) => void;
}

/** A started server. */
export interface CoserServer {
  /** e.g. `http://127.0.0.1:43123` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly tokenSource: 'option' | 'env' | 'file' | 'generated';
  readonly dataDir: string;
  readonly scheduler: RunScheduler;
  /** What the queue recovered at start. */
  readonly recovered: { resumed: string[]; interrupted: string[] };
  /** The editor build found at start (undefined with `editorDir: false`). */
  readonly editor: EditorBuild | undefined;
  /**
   * Stops accepting, waits up to `graceMs` (default 0) for running runs, marks the rest `interrupted`, closes
   * sockets and the database. Queued runs stay queued for the next start.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Starts the CoSeR server: REST under `/api`, socket.io, the SQLite run queue, and the built editor.
 *
 * @example
 * const server = await createServer({ dataDir: '.coser/server', port: 8188 });
 * console.log(`open ${server.url}/#token=${server.token}`);
 * process.on('SIGTERM', () => void server.close({ graceMs: 10_000 }));
 */
export async function createServer(options: CreateServerOptions): Promise<CoserServer> {
  const log = options.log ?? ((message: string) => console.error(`[coser serve] ${message}`));
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const uploadsDir = join(dataDir, 'uploads');
  const runsDir = join(dataDir, 'runs');
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024;
  const limits: RuntimeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  for (const origin of options.allowedOrigins ?? []) {
    if (origin === 'null' || !/^https?:\/\/[^/]+$/.test(new URL(origin).origin)) {
      throw new Error(`--allow-origin ${origin} is not an http(s) origin`);
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  await mkdir(uploadsDir, { recursive: true });
  await mkdir(runsDir, { recursive: true });

  const { token, source } = options.token
    ? { token: options.token, source: 'option' as const }
    : await loadOrCreateToken(dataDir);
  const engine =
    options.engine ??
    (await import('./default-engine')).createDefaultEngine({
      dataDir,
      uploadsDir,
      // The presets name their sample images relative to their own folder (`samples/…`).
      ...(options.presetsDir ? { samplesDir: join(options.presetsDir, 'samples') } : {}),
      limits,
      ...(options.modelsDir ? { modelsDir: options.modelsDir } : {}),
    });
  const queue = options.queue ?? new SqliteRunQueue(join(dataDir, 'runs.db'));
  const schedulerOptions: SchedulerOptions = {
    queue,
    engine,
    runsDir,
    concurrency: Math.max(1, options.concurrency ?? 1),
    queueCap: options.queueCap ?? 100,
    historyLimit: options.historyLimit ?? 1000,
    log,
  };
  const scheduler = options.createScheduler?.(schedulerOptions) ?? new RunScheduler(schedulerOptions);
  const installs = new ModelInstalls(engine, log);

  // Filled once the port is known (port 0 picks one at listen).
  const allowed = new Set<string>();
  let closing = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  app.get('/health', (_req, res) => void res.json({ ok: true }));
  app.get('/ready', async (_req, res) => {
    if (closing || !queue.isOpen) return sendError(res, 'NOT_READY', closing ? 'shutting down' : 'database closed');
    // A queue in Redis can drop between the check above and this call: that is NOT_READY too, not a 500.
    const counts = await queue.counts().catch(() => undefined);
    if (!counts) return sendError(res, 'NOT_READY', 'the queue is unreachable');
    res.json({ ok: true, ...counts });
  });
  const buckets = new Map<string, TokenBucket>();
  const restRate = options.restPerSecond ?? 50;
  app.use('/api', (req, res, next) => {
    const key = req.socket.remoteAddress ?? '?';
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size > 10_000) buckets.clear();
      buckets.set(key, (bucket = new TokenBucket(restRate, restRate * 4)));
    }
    if (!bucket.take()) return sendError(res, 'RATE_LIMITED', 'too many requests; slow down');
    next();
  });
  app.use('/api', originGuard(allowed), tokenGuard(token));
  app.use(
    '/api',
    createApiRouter({
      scheduler,
      engine,
      installs,
      uploadsDir,
      runsDir,
      presetsDir: options.presetsDir ?? join(REPO_ROOT, 'graphs'),
      maxBodyBytes,
      maxUploadBytes: options.maxUploadBytes ?? 50 * 1024 * 1024,
      maxPixels: limits.maxPixels,
      log,
    }),
  );
  const editorDir =
    options.editorDir === false ? undefined : (options.editorDir ?? join(REPO_ROOT, 'packages/editor/dist'));
  // Only the default build is checked against the sources: a folder passed in was built by whoever passed it.
  const editor = editorDir ? editorBuildStatus(editorDir, options.editorDir ? undefined : REPO_ROOT) : undefined;
  if (editorDir) {
    // Registered even while the build is missing: one made while the server runs is served on the next reload.
    app.use(express.static(editorDir, { index: 'index.html', dotfiles: 'deny', fallthrough: true }));
    app.get(['/', '/index.html'], (_req, res) => {
      const now = editorBuildStatus(editorDir);
      if (now.state !== 'missing') return void res.sendFile(join(editorDir, 'index.html'));
      res.status(503).type('html').send(editorMissingPage(now));
    });
  }
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      const upload = req.path.startsWith('/api/uploads');
      return sendError(
        res,
        upload ? 'FILE_TOO_LARGE' : 'PAYLOAD_TOO_LARGE',
        'the request body is over the size limit',
        {
          status: 413,
        },
      );
    }
    if (type === 'entity.parse.failed') {
      return sendError(
        res,
        req.path.startsWith('/api/runs') ? 'GRAPH_NOT_JSON' : 'USAGE',
        'the body is not valid JSON',
      );
    }
    if (err instanceof URIError) return sendError(res, 'PATH_FORBIDDEN', 'malformed escape in the path');
    log(`${req.method} ${req.path} failed: ${String(err)}`);
    sendError(res, 'INTERNAL', 'internal server error');
  });
  app.use((_req: Request, res: Response) => sendError(res, 'FILE_NOT_FOUND', 'not found', { status: 404 }));

  const httpServer: HttpServer = createHttpServer(app);
  httpServer.headersTimeout = 30_000;
  httpServer.requestTimeout = 120_000;
  await new Promise<void>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      resolveListen();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  for (const origin of allowedOriginSet(host, port, options.allowedOrigins ?? [])) allowed.add(origin);

  const io = new SocketServer(httpServer, {
    serveClient: false,
    maxHttpBufferSize: maxBodyBytes,
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      callback(originAllowed(origin, allowed) ? null : 'FORBIDDEN_ORIGIN', originAllowed(origin, allowed));
    },
    cors: { origin: [...allowed], credentials: false },
  });
  const detach = attachSocketProtocol(io, { scheduler, token, log, ...options.socket });
  // Every connected client (all hold the token) hears about installs, so each editor refreshes its model lists.
  const detachInstalls = installs.onChange((state) => io.emit('model:install', state));
  const recovered = await scheduler.start();
  if (recovered.interrupted.length > 0) log(`${recovered.interrupted.length} run(s) were interrupted by the last stop`);

  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    token,
    tokenSource: source,
    dataDir,
    scheduler,
    recovered,
    editor,
    close(closeOptions = {}) {
      closed ??= (async () => {
        closing = true;
        // No new connections from here; open sockets still get the final events of running runs.
        const httpClosed = new Promise<void>((done) => httpServer.close(() => done()));
        await scheduler.shutdown(closeOptions.graceMs ?? 0);
        detach();
        detachInstalls();
        io.disconnectSockets(true);
        await new Promise<void>((done) => io.close(() => done()));
        httpServer.closeAllConnections();
        await httpClosed;
        await queue.close();
        await engine.close?.();
      })();
      return closed;
    },
  };
}
