import { CoserError } from '@coser/runtime';
import Database from 'better-sqlite3';
import type { RunRecord, RunStatus, SeqEvent } from '../types';
import type { NewRun, RecoveryReport, RunCompletion, RunPage, RunQuery, RunQueue } from './run-queue';

/**
 * `node:progress` events stored per run in full; past this each node keeps only its newest progress, so a long run's
 * replay stays bounded yet still ends on current values. Other events are always stored: a graph's size bounds them.
 * Live clients get every event regardless.
 */
export const MAX_PROGRESS_EVENTS_PER_RUN = 2000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  graph TEXT NOT NULL,
  inputs TEXT NOT NULL,
  set_params TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  error_code TEXT,
  error_message TEXT,
  error_node TEXT,
  outputs TEXT,
  files TEXT
);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, seq);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  node TEXT,
  data TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
`;

interface RunRow {
  seq: number;
  id: string;
  owner: string;
  name: string;
  status: RunStatus;
  graph: string;
  inputs: string;
  set_params: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error_code: string | null;
  error_message: string | null;
  error_node: string | null;
  outputs: string | null;
  files: string | null;
}

const INTERRUPTED_MESSAGE = 'the server stopped while the run was running';

/**
 * The SQLite run queue (better-sqlite3, WAL): one file, `DATA/runs.db`, holding queued runs, history and events.
 * better-sqlite3 is synchronous; each call is one short statement or transaction, so the event loop barely waits.
 */
export class SqliteRunQueue implements RunQueue {
  private readonly db: Database.Database;
  private readonly progressCounts = new Map<string, number>();
  private readonly insertEvent: Database.Statement;
  private readonly deleteNewestProgress: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts the file.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.insertEvent = this.db.prepare(
      'INSERT OR REPLACE INTO events (run_id, seq, type, node, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.deleteNewestProgress = this.db.prepare(
      `DELETE FROM events WHERE run_id = ? AND seq = (SELECT MAX(seq) FROM events
       WHERE run_id = ? AND type = 'node:progress' AND node IS ?)`,
    );
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  async recover(): Promise<RecoveryReport> {
    const now = Date.now();
    const interrupted = this.db.transaction(() => {
      const ids = (
        this.db.prepare("SELECT id FROM runs WHERE status = 'running' ORDER BY seq").all() as { id: string }[]
      ).map((r) => r.id);
      const update = this.db.prepare(
        "UPDATE runs SET status = 'interrupted', finished_at = ?, error_code = 'CANCELLED', error_message = ? WHERE id = ?",
      );
      for (const id of ids) {
        update.run(now, INTERRUPTED_MESSAGE, id);
        const seq = this.lastSeqSync(id) + 1;
        this.storeEvent(id, { type: 'run:error', runId: id, code: 'CANCELLED', message: INTERRUPTED_MESSAGE, seq });
      }
      return ids;
    })();
    return { resumed: await this.queuedIds(), interrupted };
  }

  async enqueue(run: NewRun, cap: number): Promise<{ record: RunRecord; position: number }> {
    const createdAt = Date.now();
    const position = this.db.transaction(() => {
      const queued = this.countStatus('queued');
      if (queued >= cap) {
        throw new CoserError('QUEUE_FULL', `the queue is full (${queued} runs waiting); try again later`);
      }
      this.db
        .prepare(
          `INSERT INTO runs (id, owner, name, status, graph, inputs, set_params, created_at)
           VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.owner,
          run.name,
          JSON.stringify(run.graph),
          JSON.stringify(run.inputs),
          JSON.stringify(run.set),
          createdAt,
        );
      return queued + 1;
    })();
    return { record: { ...run, status: 'queued', createdAt }, position };
  }

  async claimNext(): Promise<RunRecord | undefined> {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT * FROM runs WHERE status = 'queued' ORDER BY seq LIMIT 1").get() as
        | RunRow
        | undefined;
      if (!row) return undefined;
      const startedAt = Date.now();
      this.db.prepare("UPDATE runs SET status = 'running', started_at = ? WHERE id = ?").run(startedAt, row.id);
      return toRecord({ ...row, status: 'running', started_at: startedAt });
    })();
  }

  async complete(id: string, completion: RunCompletion): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE runs SET status = ?, finished_at = ?, error_code = ?, error_message = ?, error_node = ?,
           outputs = ?, files = ? WHERE id = ?`,
        )
        .run(
          completion.status,
          Date.now(),
          completion.error?.code ?? null,
          completion.error?.message ?? null,
          completion.error?.node ?? null,
          completion.outputs ? JSON.stringify(completion.outputs) : null,
          completion.files ? JSON.stringify(completion.files) : null,
          id,
        );
      // A finished run's progress is history: keep the last value per node, drop the rest.
      this.db
        .prepare(
          `DELETE FROM events WHERE run_id = ? AND type = 'node:progress' AND seq NOT IN
           (SELECT MAX(seq) FROM events WHERE run_id = ? AND type = 'node:progress' GROUP BY node)`,
        )
        .run(id, id);
    })();
    this.progressCounts.delete(id);
  }

  async cancelQueued(id: string): Promise<boolean> {
    const result = this.db
      .prepare("UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'")
      .run(Date.now(), id);
    return result.changes === 1;
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list(query: RunQuery): Promise<RunPage> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.statuses && query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
      params.push(...query.statuses);
    }
    if (query.name) {
      where.push("name LIKE ? ESCAPE '\\'");
      params.push(`%${query.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (query.owner !== undefined) {
      where.push('owner = ?');
      params.push(query.owner);
    }
    if (query.before !== undefined) {
      where.push('seq < ?');
      params.push(query.before);
    }
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 50)), 500);
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, limit + 1) as RunRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { runs: page.map(toRecord), ...(rows.length > limit && last ? { next: last.seq } : {}) };
  }

  async queuedIds(): Promise<string[]> {
    return (this.db.prepare("SELECT id FROM runs WHERE status = 'queued' ORDER BY seq").all() as { id: string }[]).map(
      (r) => r.id,
    );
  }

  async counts(): Promise<{ queued: number; running: number }> {
    return { queued: this.countStatus('queued'), running: this.countStatus('running') };
  }

  async appendEvent(id: string, event: SeqEvent): Promise<void> {
    this.storeEvent(id, event);
  }

  async events(id: string, after = 0): Promise<SeqEvent[]> {
    const rows = this.db
      .prepare('SELECT data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq')
      .all(id, after) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as SeqEvent);
  }

  async lastSeq(id: string): Promise<number> {
    return this.lastSeqSync(id);
  }

  async prune(keep: number): Promise<string[]> {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT id FROM runs WHERE status IN ('done', 'error', 'cancelled', 'interrupted')
           ORDER BY seq DESC LIMIT -1 OFFSET ?`,
        )
        .all(Math.max(0, keep)) as { id: string }[];
      const deleteRun = this.db.prepare('DELETE FROM runs WHERE id = ?');
      const deleteEvents = this.db.prepare('DELETE FROM events WHERE run_id = ?');
      for (const { id } of rows) {
        deleteEvents.run(id);
        deleteRun.run(id);
      }
      return rows.map((r) => r.id);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private storeEvent(id: string, event: SeqEvent): void {
    const node = 'node' in event && typeof event.node === 'string' ? event.node : null;
    if (event.type === 'node:progress') {
      let count = this.progressCounts.get(id);
      if (count === undefined) {
        count = (
          this.db.prepare("SELECT COUNT(*) AS n FROM events WHERE run_id = ? AND type = 'node:progress'").get(id) as {
            n: number;
          }
        ).n;
      }
      if (count >= MAX_PROGRESS_EVENTS_PER_RUN) {
        this.replaceProgress(id, node, event);
        return;
      }
      this.progressCounts.set(id, count + 1);
    }
    this.insertEvent.run(id, event.seq, event.type, node, JSON.stringify(event));
  }

  /** Past the cap: the node's newest stored progress gives way to this one (same count, newer value). */
  private replaceProgress(id: string, node: string | null, event: SeqEvent): void {
    this.db.transaction(() => {
      this.deleteNewestProgress.run(id, id, node);
      this.insertEvent.run(id, event.seq, event.type, node, JSON.stringify(event));
    })();
  }

  private lastSeqSync(id: string): number {
    const row = this.db.prepare('SELECT MAX(seq) AS s FROM events WHERE run_id = ?').get(id) as { s: number | null };
    return row.s ?? 0;
  }

  private countStatus(status: RunStatus): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM runs WHERE status = ?').get(status) as { n: number }).n;
  }
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    status: row.status,
    graph: JSON.parse(row.graph) as RunRecord['graph'],
    inputs: JSON.parse(row.inputs) as Record<string, unknown>,
    set: JSON.parse(row.set_params) as Record<string, unknown>,
    createdAt: row.created_at,
    ...(row.started_at !== null ? { startedAt: row.started_at } : {}),
    ...(row.finished_at !== null ? { finishedAt: row.finished_at } : {}),
    ...(row.error_code !== null
      ? {
          error: {
            code: row.error_code as NonNullable<RunRecord['error']>['code'],
            message: row.error_message ?? '',
            ...(row.error_node !== null ? { node: row.error_node } : {}),
          },
        }
      : {}),
    ...(row.outputs !== null ? { outputs: JSON.parse(row.outputs) as RunRecord['outputs'] } : {}),
    ...(row.files !== null ? { files: JSON.parse(row.files) as RunRecord['files'] } : {}),
  };
}
