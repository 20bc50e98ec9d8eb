// Runs through the queue over real sockets: event order, several clients, cancel, disconnects, restarts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteRunQueue } from '../../packages/server/src/server/queue/sqlite-run-queue';
import {
  call,
  collectRun,
  connect,
  createFakeEngine,
  raw,
  sleepGraph,
  startTestServer,
  type TestServer,
  waitForStatus,
} from './helpers';

let current: TestServer[] = [];
afterEach(async () => {
  for (const t of current) await t.cleanup();
  current = [];
});

async function start(options: Parameters<typeof startTestServer>[0] = {}) {
  const t = await startTestServer(options);
  current.push(t);
  return t;
}

describe('server run lifecycle', () => {
  it('streams a run’s events in order, ending with run:done, and serves its output', async () => {
    const { server } = await start();
    const socket = await connect(server);
    let runId: string | undefined;
    const done = collectRun(socket, () => runId);
    const ack = await call<{ ok: boolean; runId: string; position: number }>(socket, 'run:submit', {
      graph: sleepGraph(3, 10),
    });
    expect(ack.ok).toBe(true);
    expect(ack.position).toBe(1);
    runId = ack.runId;
    const events = await done;
    expect(events.map((e) => e.type)).toEqual([
      'run:queued',
      'run:started',
      'node:started',
      'node:progress',
      'node:progress',
      'node:progress',
      'node:done',
      'run:done',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const final = events.at(-1);
    expect(final?.type === 'run:done' && final.outputs['work']?.['file']).toEqual({ kind: 'file', path: 'result.txt' });

    const detail = (await raw(server, 'GET', `/api/runs/${runId}`)).json() as {
      status: string;
      mine: boolean;
      files: { name: string; url: string }[];
      events: { count: number };
    };
    expect(detail.status).toBe('done');
    expect(detail.mine).toBe(false); // REST without x-coser-client is another client than socket 'client-a'
    expect(detail.files.map((f) => f.name)).toEqual(['result.txt']);
    const file = await raw(server, 'GET', detail.files[0]!.url);
    expect(file.status).toBe(200);
    expect(file.body.toString()).toBe(`run ${runId}\n`);
    socket.close();
  });

  it('sends previews as throttled binary PNGs without a seq, and does not store them', async () => {
    const { server } = await start();
    const socket = await connect(server);
    let runId: string | undefined;
    const done = collectRun(socket, () => runId);
    runId = (await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(30, 10, { preview: true }) }))
      .runId;
    const events = await done;
    const previews = events.filter((e) => e.type === 'node:preview') as unknown as {
      width: number;
      height: number;
      png: Buffer;
      seq?: number;
    }[];
    expect(previews.length).toBeGreaterThanOrEqual(1);
    // 30 previews over ~300 ms at most one per 250 ms: a handful, not 30.
    expect(previews.length).toBeLessThanOrEqual(3);
    for (const preview of previews) {
      expect([preview.width, preview.height]).toEqual([4, 2]);
      expect(Buffer.isBuffer(preview.png)).toBe(true);
      expect(preview.png.subarray(1, 4).toString()).toBe('PNG');
      expect(preview.seq).toBeUndefined();
    }
    const stored = await server.scheduler.queue.events(runId);
    expect(stored.some((e) => e.type === 'node:preview')).toBe(false);
    socket.close();
  });

  it('serves two clients at once, one run after the other, each seeing only its own run', async () => {
    const { server } = await start();
    const [a, b] = await Promise.all([connect(server, { clientKey: 'a' }), connect(server, { clientKey: 'b' })]);
    let idA: string | undefined;
    let idB: string | undefined;
    const seenByA: string[] = [];
    a.on('run:event', (e: { runId: string }) => seenByA.push(e.runId));
    const doneA = collectRun(a, () => idA);
    const doneB = collectRun(b, () => idB);
    const [ackA, ackB] = await Promise.all([
      call<{ runId: string; position: number }>(a, 'run:submit', { graph: sleepGraph(2, 20) }),
      call<{ runId: string; position: number }>(b, 'run:submit', { graph: sleepGraph(2, 20) }),
    ]);
    idA = ackA.runId;
    idB = ackB.runId;
    expect([ackA.position, ackB.position].sort()).toEqual([1, 2]);
    const [eventsA, eventsB] = await Promise.all([doneA, doneB]);
    expect(eventsA.at(-1)?.type).toBe('run:done');
    expect(eventsB.at(-1)?.type).toBe('run:done');
    expect(new Set(seenByA)).toEqual(new Set([idA]));
    // Concurrency 1: the second run started only after the first finished.
    const recA = await server.scheduler.queue.get(idA);
    const recB = await server.scheduler.queue.get(idB);
    const [first, second] = [recA!, recB!].sort((x, y) => x.startedAt! - y.startedAt!);
    expect(second!.startedAt!).toBeGreaterThanOrEqual(first!.finishedAt!);
    a.close();
    b.close();
  });

  it('runs `concurrency` runs at once', async () => {
    const { server } = await start({ concurrency: 2 });
    const socket = await connect(server);
    const a = await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(10, 20) });
    const b = await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(10, 20) });
    const c = await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(1, 1) });
    await waitForStatus(server, a.runId, ['running', 'done']);
    await waitForStatus(server, b.runId, ['running', 'done']);
    const [ra, rb] = [await waitForStatus(server, a.runId, ['done']), await waitForStatus(server, b.runId, ['done'])];
    // Both started before either finished; the third waited for a free slot.
    expect(rb.startedAt!).toBeLessThan(ra.finishedAt!);
    const rc = await waitForStatus(server, c.runId, ['done']);
    expect(rc.startedAt!).toBeGreaterThanOrEqual(Math.min(ra.finishedAt!, rb.finishedAt!));
    socket.close();
  });

  it('cancels queued and running runs, answers a second cancel, and refuses someone else’s', async () => {
    const { server } = await start();
    const owner = await connect(server, { clientKey: 'owner' });
    const other = await connect(server, { clientKey: 'other' });
    const running = await call<{ runId: string }>(owner, 'run:submit', { graph: sleepGraph(200, 20) });
    const queued = await call<{ runId: string }>(owner, 'run:submit', { graph: sleepGraph(2, 10) });
    await waitForStatus(server, running.runId, ['running']);

    const refused = await call<{ ok: boolean; code: string }>(other, 'run:cancel', { runId: running.runId });
    expect(refused).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    const refusedRest = await raw(server, 'DELETE', `/api/runs/${running.runId}`, {
      headers: { 'x-coser-client': 'other' },
    });
    expect(refusedRest.status).toBe(403);
    expect((await server.scheduler.queue.get(running.runId))?.status).toBe('running');

    expect(await call(owner, 'run:cancel', { runId: queued.runId })).toEqual({ ok: true, status: 'cancelled' });
    const started = Date.now();
    expect(await call(owner, 'run:cancel', { runId: running.runId })).toEqual({ ok: true, status: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(2000);
    // Twice: the answer is the final status, nothing changes.
    expect(await call(owner, 'run:cancel', { runId: running.runId })).toEqual({ ok: true, status: 'cancelled' });
    expect(await call(owner, 'run:cancel', { runId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({
      ok: false,
      code: 'RUN_NOT_FOUND',
    });
    // The queue goes on: the next run completes.
    let nextId: string | undefined;
    const next = collectRun(owner, () => nextId);
    nextId = (await call<{ runId: string }>(owner, 'run:submit', { graph: sleepGraph(1, 5) })).runId;
    expect((await next).at(-1)?.type).toBe('run:done');
    // The cancelled run's stored events end with exactly one run:cancelled.
    const stored = await server.scheduler.queue.events(running.runId);
    expect(stored.filter((e) => e.type === 'run:cancelled')).toHaveLength(1);
    expect(stored.at(-1)?.type).toBe('run:cancelled');
    owner.close();
    other.close();
  });

  it('keeps running after its client disconnects; the result is fetchable by id, and subscribe replays', async () => {
    const { server } = await start();
    const first = await connect(server, { clientKey: 'k' });
    const { runId } = await call<{ runId: string }>(first, 'run:submit', { graph: sleepGraph(5, 20) });
    await waitForStatus(server, runId, ['running']);
    first.close();
    await waitForStatus(server, runId, ['done']);

    const rest = (await raw(server, 'GET', `/api/runs/${runId}`)).json() as { status: string; files: unknown[] };
    expect(rest.status).toBe('done');
    expect(rest.files).toHaveLength(1);

    const again = await connect(server, { clientKey: 'k' });
    const replay = await call<{ ok: boolean; status: string; events: { seq: number; type: string }[] }>(
      again,
      'run:subscribe',
      { runId },
    );
    expect(replay.ok).toBe(true);
    expect(replay.status).toBe('done');
    expect(replay.events[0]?.type).toBe('run:queued');
    expect(replay.events.at(-1)?.type).toBe('run:done');
    const seqs = replay.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const partial = await call<{ events: { seq: number }[] }>(again, 'run:subscribe', { runId, after: 3 });
    expect(partial.events.every((e) => e.seq > 3)).toBe(true);
    const rest2 = (await raw(server, 'GET', `/api/runs/${runId}/events?after=3`)).json() as {
      events: { seq: number }[];
    };
    expect(rest2.events.map((e) => e.seq)).toEqual(partial.events.map((e) => e.seq));
    again.close();
  });

  it('after a restart, queued runs resume and the running one is interrupted (never done)', async () => {
    const first = await startTestServer({ concurrency: 1 });
    const socket = await connect(first.server);
    const long = await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(500, 20) });
    const waiting = await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(2, 5) });
    await waitForStatus(first.server, long.runId, ['running']);
    socket.close();
    await first.server.close({ graceMs: 0 });
    expect((await new SqliteRunQueue(`${first.dataDir}/runs.db`).get(long.runId))?.status).toBe('interrupted');

    const second = await start({ dataDir: first.dataDir, engine: createFakeEngine() });
    expect(second.server.recovered.resumed).toEqual([waiting.runId]);
    await waitForStatus(second.server, waiting.runId, ['done']);
    const interrupted = await second.server.scheduler.queue.get(long.runId);
    expect(interrupted?.status).toBe('interrupted');
    expect(interrupted?.error?.code).toBe('CANCELLED');
    const events = await second.server.scheduler.queue.events(long.runId);
    expect(events.at(-1)).toMatchObject({ type: 'run:error', code: 'CANCELLED' });
    expect(events.some((e) => e.type === 'run:done')).toBe(false);
  });

  it('on close, lets a running run finish within the grace period and refuses new submissions', async () => {
    const t = await startTestServer();
    const socket = await connect(t.server);
    let runId: string | undefined;
    const done = collectRun(socket, () => runId);
    runId = (await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(10, 30) })).runId;
    await waitForStatus(t.server, runId, ['running']);
    const closing = t.server.close({ graceMs: 10_000 });
    expect(await call(socket, 'run:submit', { graph: sleepGraph(1, 1) })).toMatchObject({
      ok: false,
      code: 'NOT_READY',
    });
    expect((await done).at(-1)?.type).toBe('run:done');
    await closing;
    const queue = new SqliteRunQueue(`${t.dataDir}/runs.db`);
    expect((await queue.get(runId))?.status).toBe('done');
    await queue.close();
    await t.cleanup();
  });

  it('marks runs left running by a crashed process interrupted on the next start', async () => {
    const first = await startTestServer();
    const dataDir = first.dataDir;
    await first.server.close();
    // Simulate a crash: a run claimed (running) and never completed, plus one still queued.
    const queue = new SqliteRunQueue(`${dataDir}/runs.db`);
    const graph = sleepGraph(1, 1);
    const base = { owner: 'x', name: 'g', graph, inputs: {}, set: {} };
    await queue.enqueue({ ...base, id: '11111111-1111-4111-8111-111111111111' }, 10);
    await queue.enqueue({ ...base, id: '22222222-2222-4222-8222-222222222222' }, 10);
    expect((await queue.claimNext())?.id).toBe('11111111-1111-4111-8111-111111111111');
    await queue.close();

    const second = await start({ dataDir });
    expect(second.server.recovered.interrupted).toEqual(['11111111-1111-4111-8111-111111111111']);
    await waitForStatus(second.server, '22222222-2222-4222-8222-222222222222', ['done']);
    expect((await second.server.scheduler.queue.get('11111111-1111-4111-8111-111111111111'))?.status).toBe(
      'interrupted',
    );
  });

  it('many clients submitting at once: each accepted or QUEUE_FULL, none lost', async () => {
    const { server } = await start({ queueCap: 5 });
    const sockets = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(server, { clientKey: `c${i}` })));
    const answers = await Promise.all(
      sockets.flatMap((socket) =>
        [0, 1].map(() =>
          call<{ ok: boolean; runId?: string; code?: string }>(socket, 'run:submit', { graph: sleepGraph(1, 20) }),
        ),
      ),
    );
    const accepted = answers.filter((a) => a.ok);
    const refused = answers.filter((a) => !a.ok);
    expect(accepted.length + refused.length).toBe(24);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.code === 'QUEUE_FULL')).toBe(true);
    for (const a of accepted) await waitForStatus(server, a.runId!, ['done']);
    const stored = await server.scheduler.queue.list({ limit: 500 });
    expect(stored.runs.map((r) => r.id).sort()).toEqual(accepted.map((a) => a.runId).sort());
    for (const socket of sockets) socket.close();
  });

  it('keeps historyLimit finished runs and deletes older ones with their output folders', async () => {
    const { server, dataDir } = await start({ historyLimit: 2 });
    const socket = await connect(server);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      let id: string | undefined;
      const done = collectRun(socket, () => id);
      id = (await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(1, 1) })).runId;
      await done;
      ids.push(id);
    }
    // Pruning follows the final event: give it a moment.
    for (let i = 0; i < 100 && existsSync(join(dataDir, 'runs', ids[0]!)); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await server.scheduler.queue.get(ids[0]!)).toBeUndefined();
    expect(existsSync(join(dataDir, 'runs', ids[0]!))).toBe(false);
    expect(existsSync(join(dataDir, 'runs', ids[2]!, 'result.txt'))).toBe(true);
    expect((await raw(server, 'GET', `/api/runs/${ids[0]}`)).status).toBe(404);
    socket.close();
  });

  it('lists and searches history over REST', async () => {
    const { server } = await start();
    const headers = { 'content-type': 'application/json', 'x-coser-client': 'rest' };
    const body = (name: string, extra = {}) => JSON.stringify({ graph: { ...sleepGraph(1, 1, extra), name } });
    const ok = (await raw(server, 'POST', '/api/runs', { headers, body: body('alpha one') })).json() as {
      runId: string;
    };
    const bad = (await raw(server, 'POST', '/api/runs', { headers, body: body('beta', { fail: true }) })).json() as {
      runId: string;
    };
    await waitForStatus(server, ok.runId, ['done']);
    await waitForStatus(server, bad.runId, ['error']);
    const all = (await raw(server, 'GET', '/api/runs')).json() as { runs: { id: string; mine: boolean }[] };
    expect(all.runs.map((r) => r.id)).toEqual([bad.runId, ok.runId]);
    const errors = (await raw(server, 'GET', '/api/runs?status=error')).json() as {
      runs: { id: string; error: unknown }[];
    };
    expect(errors.runs.map((r) => r.id)).toEqual([bad.runId]);
    expect(errors.runs[0]?.error).toMatchObject({ code: 'NODE_FAILED', node: 'work' });
    const byName = (await raw(server, 'GET', '/api/runs?name=ALPHA')).json() as { runs: { id: string }[] };
    expect(byName.runs.map((r) => r.id)).toEqual([ok.runId]);
    const mine = (await raw(server, 'GET', '/api/runs?mine=1', { headers })).json() as { runs: { mine: boolean }[] };
    expect(mine.runs).toHaveLength(2);
    expect(mine.runs.every((r) => r.mine)).toBe(true);
    const page = (await raw(server, 'GET', '/api/runs?limit=1')).json() as { runs: unknown[]; next?: number };
    expect(page.runs).toHaveLength(1);
    const rest = (await raw(server, 'GET', `/api/runs?limit=1&before=${page.next}`)).json() as {
      runs: { id: string }[];
    };
    expect(rest.runs.map((r) => r.id)).toEqual([ok.runId]);
    expect((await raw(server, 'GET', '/api/runs?status=bogus')).status).toBe(400);
  });
});
