// The RELIABILITY transport, path and graph cases against a real server: every refusal has its code, and the server
// keeps serving the next valid request.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Socket as EngineSocket } from 'engine.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  collectRun,
  connect,
  errorCode,
  raw,
  sleepGraph,
  startTestServer,
  type TestServer,
  waitForStatus,
} from './helpers';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    allowedOrigins: ['http://localhost:5173'],
    maxBodyBytes: 256 * 1024,
    socket: { messagesPerSecond: 20, messageBurst: 40, floodDisconnectAfter: 100 },
    restPerSecond: 10_000,
  });
});
afterAll(async () => t.cleanup());

/** The server still runs a valid graph end to end. */
async function stillServes(): Promise<void> {
  const socket = await connect(t.server, { clientKey: 'checker' });
  let id: string | undefined;
  const done = collectRun(socket, () => id);
  id = (await call<{ runId: string }>(socket, 'run:submit', { graph: sleepGraph(1, 1) })).runId;
  expect((await done).at(-1)?.type).toBe('run:done');
  socket.close();
}

describe('REST authentication and origins', () => {
  it('refuses a missing or wrong token with 401 UNAUTHORIZED, accepts Bearer and x-coser-token', async () => {
    const none = await raw(t.server, 'GET', '/api/runs', { token: null });
    expect(none.status).toBe(401);
    expect(errorCode(none)).toBe('UNAUTHORIZED');
    const wrong = await raw(t.server, 'GET', '/api/runs', { token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong)).toBe('UNAUTHORIZED');
    const query = await raw(t.server, 'GET', `/api/runs?token=${t.server.token}`, { token: null });
    expect(query.status).toBe(401);
    expect((await raw(t.server, 'GET', '/api/runs')).status).toBe(200);
    const header = await raw(t.server, 'GET', '/api/runs', {
      token: null,
      headers: { 'x-coser-token': t.server.token },
    });
    expect(header.status).toBe(200);
    expect((await raw(t.server, 'GET', '/health', { token: null })).status).toBe(200);
    expect((await raw(t.server, 'GET', '/ready', { token: null })).json()).toMatchObject({ ok: true });
  });

  it('refuses foreign and null Origins with 403 FORBIDDEN_ORIGIN, even with the token', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${t.server.port + 1}`]) {
      const res = await raw(t.server, 'GET', '/api/runs', { headers: { origin } });
      expect(res.status, origin).toBe(403);
      expect(errorCode(res)).toBe('FORBIDDEN_ORIGIN');
    }
    for (const origin of [t.server.url, `http://localhost:${t.server.port}`, 'http://localhost:5173']) {
      const res = await raw(t.server, 'GET', '/api/runs', { headers: { origin } });
      expect(res.status, origin).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
    }
  });

  it('sets security headers', async () => {
    const res = await raw(t.server, 'GET', '/api/nodes');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('REST bodies and graphs', () => {
  const json = { 'content-type': 'application/json' };

  it('answers not-JSON, truncated, oversize and invalid graphs with their codes', async () => {
    const notJson = await raw(t.server, 'POST', '/api/runs', { headers: json, body: '{"graph": nope' });
    expect(notJson.status).toBe(400);
    expect(errorCode(notJson)).toBe('GRAPH_NOT_JSON');
    const graphText = await raw(t.server, 'POST', '/api/runs', {
      headers: json,
      body: JSON.stringify({ graph: '{"format": "coser-graph", "vers' }),
    });
    expect(errorCode(graphText)).toBe('GRAPH_NOT_JSON');
    const big = await raw(t.server, 'POST', '/api/runs', {
      headers: json,
      body: JSON.stringify({ graph: { ...sleepGraph(), description: 'x'.repeat(10 * 1024 * 1024) } }),
    });
    expect(big.status).toBe(413);
    expect(errorCode(big)).toBe('PAYLOAD_TOO_LARGE');
    const missing = await raw(t.server, 'POST', '/api/runs', { headers: json, body: '{"inputs": {}}' });
    expect(errorCode(missing)).toBe('USAGE');
    await stillServes();
  });

  it('rejects cycles, unknown types and forbidden keys at submit with diagnostics, queueing nothing', async () => {
    const cyclic = sleepGraph();
    cyclic.nodes.push({ id: 'b', type: 'test.sleep', typeVersion: 1, params: {} });
    cyclic.edges = [
      { from: { node: 'work', port: 'done' }, to: { node: 'b', port: 'after' } },
      { from: { node: 'b', port: 'done' }, to: { node: 'work', port: 'after' } },
    ];
    const before = (await t.server.scheduler.queue.list({ limit: 500 })).runs.length;
    const socket = await connect(t.server);
    const ack = await call<{ ok: boolean; code: string; diagnostics: { code: string; node?: string }[] }>(
      socket,
      'run:submit',
      { graph: cyclic },
    );
    expect(ack.ok).toBe(false);
    expect(ack.code).toBe('GRAPH_CYCLE');
    expect(ack.diagnostics.some((d) => d.code === 'GRAPH_CYCLE')).toBe(true);
    const unknown = sleepGraph();
    unknown.nodes[0]!.type = 'future.node';
    expect(await call(socket, 'run:submit', { graph: unknown })).toMatchObject({
      ok: false,
      code: 'UNKNOWN_NODE_TYPE',
    });
    const proto = JSON.parse(JSON.stringify(sleepGraph()).replace('"steps"', '"__proto__"')) as unknown;
    expect(await call(socket, 'run:submit', { graph: proto })).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
    expect(({} as Record<string, unknown>)['steps']).toBeUndefined();
    const rest = await raw(t.server, 'POST', '/api/runs', { headers: json, body: JSON.stringify({ graph: cyclic }) });
    expect(rest.status).toBe(400);
    expect(errorCode(rest)).toBe('GRAPH_CYCLE');
    expect((await t.server.scheduler.queue.list({ limit: 500 })).runs.length).toBe(before);
    socket.close();
  });
});

describe('output paths', () => {
  let runId: string;
  beforeAll(async () => {
    const res = await raw(t.server, 'POST', '/api/runs', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph: sleepGraph(1, 1) }),
    });
    runId = (res.json() as { runId: string }).runId;
    await waitForStatus(t.server, runId, ['done']);
    const dir = join(t.dataDir, 'runs', runId);
    await writeFile(join(dir, 'a..b.png'), 'fine');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'x.png'), 'nested');
    await symlink(join(t.dataDir, 'token'), join(dir, 'link.png')).catch(() => undefined);
    await writeFile(join(t.dataDir, 'token'), 'SECRET');
  });

  it.each([
    '../../token',
    '../../../runs.db',
    '%2e%2e%2f%2e%2e%2ftoken',
    '%2E%2E/%2E%2E/token',
    '..%2f..%2ftoken',
    '%252e%252e%252f%252e%252e%252ftoken',
    '..%5c..%5ctoken',
    '..\\..\\token',
    '%2fetc%2fpasswd',
    '/etc/passwd',
    'result.txt%00.png',
    'link.png',
    '.%2e/.%2e/token',
    'sub/../../../token',
  ])('refuses %s', async (name) => {
    const res = await raw(t.server, 'GET', `/api/runs/${runId}/outputs/${name}`);
    expect([403, 404], `${res.status} ${res.body}`).toContain(res.status);
    expect(res.body.toString()).not.toContain('SECRET');
    if (res.status === 403) expect(errorCode(res)).toBe('PATH_FORBIDDEN');
  });

  it('serves real files, including a..b.png and subfolders, and refuses unknown run ids', async () => {
    expect((await raw(t.server, 'GET', `/api/runs/${runId}/outputs/a..b.png`)).body.toString()).toBe('fine');
    expect((await raw(t.server, 'GET', `/api/runs/${runId}/outputs/sub/x.png`)).body.toString()).toBe('nested');
    const other = await raw(t.server, 'GET', '/api/runs/..%2f..%2f/outputs/token');
    expect(other.status).toBe(404);
    expect(other.body.toString()).not.toContain('SECRET');
  });
});

describe('socket.io transport', () => {
  it('refuses the handshake without or with a wrong token', async () => {
    await expect(connect(t.server, { token: '' })).rejects.toThrow('UNAUTHORIZED');
    await expect(connect(t.server, { token: 'wrong' })).rejects.toThrow('UNAUTHORIZED');
  });

  it('refuses foreign and null Origins, accepts its own and allowed ones', async () => {
    await expect(connect(t.server, { origin: 'http://evil.example' })).rejects.toThrow();
    await expect(connect(t.server, { origin: 'null' })).rejects.toThrow();
    const own = await connect(t.server, { origin: t.server.url });
    own.close();
    const dev = await connect(t.server, { origin: 'http://localhost:5173' });
    dev.close();
  });

  it('closes only the socket that sends a message over the size cap', async () => {
    const big = await connect(t.server, { clientKey: 'big' });
    const bystander = await connect(t.server, { clientKey: 'bystander' });
    const closed = new Promise<string>((resolve) => big.once('disconnect', (reason) => resolve(reason)));
    big.emit('run:submit', { graph: { ...sleepGraph(), description: 'x'.repeat(1024 * 1024) } }, () => {});
    expect(await closed).toMatch(/transport (close|error)/);
    expect(bystander.connected).toBe(true);
    expect(await call(bystander, 'run:subscribe', { runId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({
      ok: false,
      code: 'RUN_NOT_FOUND',
    });
    bystander.close();
    await stillServes();
  });

  it('answers malformed messages with error codes', async () => {
    const socket = await connect(t.server);
    expect(await call(socket, 'run:submit', null)).toMatchObject({ ok: false, code: 'USAGE' });
    expect(await call(socket, 'run:submit', 'text')).toMatchObject({ ok: false, code: 'USAGE' });
    expect(await call(socket, 'run:submit', { graph: 42 })).toMatchObject({
      ok: false,
      code: expect.stringMatching(/^GRAPH_/),
    });
    expect(await call(socket, 'run:submit', { graph: sleepGraph(), inputs: [1] })).toMatchObject({
      ok: false,
      code: 'USAGE',
    });
    expect(await call(socket, 'run:cancel', { runId: { $ne: 1 } })).toMatchObject({ ok: false, code: 'USAGE' });
    expect(await call(socket, 'run:cancel', { runId: '../../x' })).toMatchObject({ ok: false, code: 'RUN_NOT_FOUND' });
    const noAck = new Promise((resolve) => socket.once('server:error', resolve));
    socket.emit('run:cancel', 5);
    expect(await noAck).toMatchObject({ code: 'USAGE' });
    const unknown = new Promise((resolve) => socket.once('server:error', resolve));
    socket.emit('run:explode', {});
    expect(await unknown).toMatchObject({ code: 'USAGE' });
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('drops a connection that sends undecodable packets, without affecting others', async () => {
    const bystander = await connect(t.server, { clientKey: 'bystander2' });
    for (const packet of [
      '42[not json',
      '4',
      '9999',
      '42{"a":1}',
      '2probe',
      '45-["x",{"_placeholder":true,"num":9}]',
    ]) {
      const engine = new EngineSocket(t.server.url, { transports: ['websocket'], path: '/socket.io/' });
      await new Promise<void>((resolve) => engine.once('open', () => resolve()));
      engine.send(`0${JSON.stringify({ token: t.server.token })}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const closed = new Promise<void>((resolve) => engine.once('close', () => resolve()));
      engine.send(packet);
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 300))]);
      engine.close();
    }
    expect(bystander.connected).toBe(true);
    bystander.close();
    await stillServes();
  });

  it('rate-limits a flooding socket and disconnects it; other clients’ runs are unaffected', async () => {
    const flooder = await connect(t.server, { clientKey: 'flooder' });
    const watcher = await connect(t.server, { clientKey: 'watcher' });
    let id: string | undefined;
    const done = collectRun(watcher, () => id);
    id = (await call<{ runId: string }>(watcher, 'run:submit', { graph: sleepGraph(10, 10) })).runId;
    const answers: { ok: boolean; code?: string }[] = [];
    const disconnected = new Promise<void>((resolve) => flooder.once('disconnect', () => resolve()));
    for (let i = 0; i < 300; i++) {
      flooder.emit('run:subscribe', { runId: id }, (answer: { ok: boolean; code?: string }) => answers.push(answer));
    }
    await disconnected;
    expect(answers.some((a) => a.code === 'RATE_LIMITED')).toBe(true);
    expect(answers.filter((a) => a.ok).length).toBeLessThanOrEqual(45);
    const events = await done;
    expect(events.at(-1)?.type).toBe('run:done');
    expect(watcher.connected).toBe(true);
    watcher.close();
  });
});
