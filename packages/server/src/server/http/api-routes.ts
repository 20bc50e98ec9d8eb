import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { CoserError, isCoserError } from '@coser/runtime';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ModelInstalls } from '../model-installs';
import type { RunEngine } from '../run-engine';
import type { RunScheduler } from '../run-scheduler';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../types';
import { describeError, sendError } from './errors';
import { sniffImage } from './image-sniff';
import { resolveInside } from './safe-path';

export interface ApiOptions {
  scheduler: RunScheduler;
  engine: RunEngine;
  /** Model installs (`POST /api/models/:name/install`). */
  installs: ModelInstalls;
  uploadsDir: string;
  runsDir: string;
  presetsDir: string;
  maxBodyBytes: number;
  maxUploadBytes: number;
  maxPixels: number;
  log: (message: string) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PRESET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

type Handler = (req: Request, res: Response) => Promise<void>;

/** Wraps an async handler: a thrown CoserError becomes its JSON error, anything else a logged INTERNAL. */
function route(handler: Handler, log: (message: string) => void) {
  return (req: Request, res: Response, _next: NextFunction): void => {
    handler(req, res).catch((error: unknown) => {
      const described = describeError(error);
      if (described.code === 'INTERNAL') log(`${req.method} ${req.path} failed: ${String(error)}`);
      sendError(
        res,
        described.code,
        described.message,
        described.diagnostics ? { diagnostics: described.diagnostics } : {},
      );
    });
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A run as clients see it: never the owner hash. */
export function runSummary(record: RunRecord, owner: string, position?: number) {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    mine: record.owner === owner,
    createdAt: iso(record.createdAt),
    ...(record.startedAt !== undefined ? { startedAt: iso(record.startedAt) } : {}),
    ...(record.finishedAt !== undefined ? { finishedAt: iso(record.finishedAt) } : {}),
    ...(position !== undefined ? { position } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

function runIdParam(req: Request): string {
  const id = req.params['id'];
  if (typeof id !== 'string' || !UUID.test(id)) throw new CoserError('RUN_NOT_FOUND', 'no such run');
  return id;
}

/** The `/api` routes (the token and origin guards run before these). */
export function createApiRouter(options: ApiOptions): Router {
  const { scheduler, engine, log } = options;
  const queue = scheduler.queue;
  const router = express.Router();
  const json = express.json({ limit: options.maxBodyBytes, strict: false, type: () => true });
  const raw = express.raw({ limit: options.maxUploadBytes, type: () => true });

  router.get(
    '/nodes',
    route(async (_req, res) => void res.json(engine.catalog()), log),
  );

  router.get(
    '/presets',
    route(async (_req, res) => {
      const names = (await readdir(options.presetsDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
      const presets = [];
      for (const file of names.sort()) {
        try {
          const graph = JSON.parse(await readFile(join(options.presetsDir, file), 'utf8')) as Record<string, unknown>;
          presets.push({
            name: file.slice(0, -'.json'.length),
            title: typeof graph['name'] === 'string' ? graph['name'] : file,
            description: typeof graph['description'] === 'string' ? graph['description'] : '',
          });
        } catch {
          log(`preset ${file} is not valid JSON; skipped`);
        }
      }
      res.json(presets);
    }, log),
  );

  router.get(
    '/presets/:name',
    route(async (req, res) => {
      const name = String(req.params['name']);
      if (!PRESET_NAME.test(name)) throw new CoserError('FILE_NOT_FOUND', 'no such preset');
      const file = await resolveInside(options.presetsDir, `${name.replace(/\.json$/, '')}.json`);
      res.type('application/json').send(await readFile(file, 'utf8'));
    }, log),
  );

  router.get(
    '/models',
    route(async (_req, res) => void res.json(await engine.listModels()), log),
  );

  router.get(
    '/models/catalogue',
    route(async (_req, res) => {
      if (!engine.catalogue) throw new CoserError('NOT_READY', 'this server has no model manager');
      const models = await engine.catalogue();
      res.json({
        models: models.map((m) => {
          const install = options.installs.get(m.name);
          return install ? { ...m, install } : m;
        }),
      });
    }, log),
  );

  router.post(
    '/models/:name/install',
    route(async (req, res) => {
      const install = await options.installs.start(String(req.params['name']));
      res.status(202).json({ install });
    }, log),
  );

  router.get(
    '/models/:name/file',
    route(async (req, res) => {
      const name = String(req.params['name']);
      if (!MODEL_NAME.test(name)) throw new CoserError('MODEL_MISSING', 'no such model');
      const file = await engine.modelFile(name);
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(file.bytes));
      await streamFile(file.path, res);
    }, log),
  );

  router.post(
    '/uploads',
    raw,
    route(async (req, res) => {
      const body: unknown = req.body;
      const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      const image = sniffImage(bytes, options.maxPixels);
      const extension = image.format === 'jpeg' ? 'jpg' : image.format;
      // With ?name=photo.png the file keeps its name in a folder of its own (UUID/photo.png), so outputs named
      // `{name}` are called after it; the extension always follows the bytes.
      const original = typeof req.query['name'] === 'string' ? uploadBaseName(req.query['name']) : undefined;
      const folder = join(options.uploadsDir, original ? randomUUID() : '');
      await mkdir(folder, { recursive: true });
      const file = `${original ?? randomUUID()}.${extension}`;
      const name = relative(options.uploadsDir, join(folder, file)).split(sep).join('/');
      const temp = join(folder, `.${file}.tmp`);
      await writeFile(temp, bytes, { flag: 'wx', mode: 0o600 });
      await rename(temp, join(folder, file));
      res
        .status(201)
        .json({ name, format: image.format, width: image.width, height: image.height, bytes: bytes.length });
    }, log),
  );

  router.post(
    '/runs',
    json,
    route(async (req, res) => {
      const body = req.body as unknown;
      if (typeof body !== 'object' || body === null || !('graph' in body)) {
        throw new CoserError('USAGE', 'the body must be { graph, inputs?, set? }');
      }
      const request = body as { graph: unknown; inputs?: unknown; set?: unknown };
      const { runId, position } = await scheduler.submit(res.locals['owner'] as string, {
        graph: request.graph,
        inputs: plainRecord(request.inputs, 'inputs'),
        set: plainRecord(request.set, 'set'),
      });
      res.status(202).json({ runId, status: 'queued', position });
    }, log),
  );

  router.get(
    '/runs',
    route(async (req, res) => {
      const statuses = typeof req.query['status'] === 'string' ? req.query['status'].split(',') : [];
      const bad = statuses.find((s) => !RUN_STATUSES.includes(s as RunStatus));
      if (bad !== undefined) throw new CoserError('USAGE', `unknown status ${JSON.stringify(bad)}`);
      const owner = res.locals['owner'] as string;
      const before = Number(req.query['before']);
      const limit = Number(req.query['limit']);
      const page = await queue.list({
        statuses: statuses as RunStatus[],
        ...(typeof req.query['name'] === 'string' ? { name: req.query['name'].slice(0, 200) } : {}),
        ...(req.query['mine'] === '1' || req.query['mine'] === 'true' ? { owner } : {}),
        ...(Number.isFinite(before) ? { before } : {}),
        ...(Number.isFinite(limit) ? { limit } : {}),
      });
      const queued = await queue.queuedIds();
      res.json({
        runs: page.runs.map((r) => runSummary(r, owner, positionOf(queued, r.id))),
        ...(page.next !== undefined ? { next: page.next } : {}),
      });
    }, log),
  );

  router.get(
    '/runs/:id',
    route(async (req, res) => {
      const id = runIdParam(req);
      const record = await queue.get(id);
      if (!record) throw new CoserError('RUN_NOT_FOUND', `no run ${id}`);
      const events = await queue.events(id);
      const progress: Record<string, { value: number; max: number }> = {};
      for (const event of events) {
        if (event.type === 'node:progress') progress[event.node] = { value: event.value, max: event.max };
      }
      const owner = res.locals['owner'] as string;
      res.json({
        ...runSummary(record, owner, positionOf(await queue.queuedIds(), id)),
        graph: record.graph,
        inputs: record.inputs,
        set: record.set,
        outputs: record.outputs ?? {},
        files: (record.files ?? []).map((f) => ({
          ...f,
          url: `/api/runs/${id}/outputs/${f.name.split('/').map(encodeURIComponent).join('/')}`,
        })),
        events: { count: events.length, ...(events.length ? { last: events[events.length - 1] } : {}), progress },
      });
    }, log),
  );

  router.get(
    '/runs/:id/events',
    route(async (req, res) => {
      const id = runIdParam(req);
      if (!(await queue.get(id))) throw new CoserError('RUN_NOT_FOUND', `no run ${id}`);
      const after = Number(req.query['after'] ?? 0);
      res.json({ events: await queue.events(id, Number.isFinite(after) ? after : 0) });
    }, log),
  );

  router.get(
    '/runs/:id/outputs/*file',
    route(async (req, res) => {
      const id = runIdParam(req);
      const parts = req.params['file'] as unknown;
      const name = Array.isArray(parts) ? parts.join('/') : String(parts);
      const file = await resolveInside(join(options.runsDir, id), name);
      const ext = extname(file).toLowerCase();
      const types: Record<string, string> = {
        '.png': 'image/png',
        '.jpg': 'image/jpeg',
        '.jpeg': 'image/jpeg',
        '.webp': 'image/webp',
        '.json': 'application/json',
      };
      res.setHeader('Content-Type', types[ext] ?? 'application/octet-stream');
      if (!types[ext]) res.setHeader('Content-Disposition', 'attachment');
      await streamFile(file, res);
    }, log),
  );

  router.delete(
    '/runs/:id',
    route(async (req, res) => {
      try {
        res.json({ status: await scheduler.cancel(res.locals['owner'] as string, runIdParam(req)) });
      } catch (error) {
        // The caller is authenticated, just not the owner: 403, not 401.
        if (isCoserError(error) && error.code === 'UNAUTHORIZED') {
          sendError(res, 'UNAUTHORIZED', error.message, { status: 403 });
          return;
        }
        throw error;
      }
    }, log),
  );

  router.use((_req: Request, res: Response) => sendError(res, 'USAGE', 'no such API route', { status: 404 }));
  return router;
}

function positionOf(queued: string[], id: string): number | undefined {
  const index = queued.indexOf(id);
  return index < 0 ? undefined : index + 1;
}

/** `inputs` / `set` must be plain objects of JSON values; prototype keys are left for loadGraph to report. */
export function plainRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new CoserError('USAGE', `${what} must be an object`);
  return value as Record<string, unknown>;
}

function streamFile(file: string, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(file);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** The base name of an uploaded file's original name, safe as a file name: no folders, extension or odd characters. */
function uploadBaseName(original: string): string | undefined {
  const base = original.split(/[\\/]/).pop() ?? '';
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  const cleaned = stem
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 100);
  return cleaned === '' ? undefined : cleaned;
}
