// `coser serve` as a process: prints the URL and token, serves, warns off loopback, exits 0 on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers';

const BIN = join(import.meta.dirname, '../../packages/server/bin/coser.js');

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  url: string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      // The editor line comes last: by then the token line is there too.
      if (match && out.includes('\neditor: ')) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, stdout: () => out, stderr: () => err, url, exited };
}

describe('coser serve', () => {
  it('prints the URL and a generated token (stored 0600), serves, and exits 0 on SIGTERM', async () => {
    const data = await tempDir();
    const { COSER_TOKEN: _ignored, ...env } = process.env;
    const started = await serve(['--data', data], { ...env, COSER_TOKEN: '' } as Record<string, string>);
    const token = (await readFile(join(data, 'token'), 'utf8')).trim();
    expect(started.stdout()).toContain(`token: ${token}`);
    expect((await stat(join(data, 'token'))).mode & 0o777).toBe(0o600);
    expect(started.stderr()).not.toContain('bound to');
    expect((await fetch(`${started.url}/health`)).status).toBe(200);
    // The editor, or (not built) a page saying how to build it: HTML either way, never a JSON 404.
    const page = await fetch(`${started.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<html/i);
    expect((await fetch(`${started.url}/api/runs`)).status).toBe(401);
    const ok = await fetch(`${started.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.stdout()).toContain('coser server stopped');
    await rm(data, { recursive: true, force: true });
  });

  it('takes the token from COSER_TOKEN and warns when bound to a non-loopback address', async () => {
    const data = await tempDir();
    const started = await serve(['--data', data, '--host', '0.0.0.0'], { COSER_TOKEN: 'env-token-123456789' });
    expect(started.stdout()).toContain('token: env-token-123456789 (from COSER_TOKEN)');
    // stderr is another pipe: the warning may arrive after the stdout lines.
    for (let i = 0; i < 500 && !started.stderr().includes('warning'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(started.stderr()).toMatch(/warning: bound to 0\.0\.0\.0/);
    const ok = await fetch(`${started.url}/api/runs`, { headers: { 'x-coser-token': 'env-token-123456789' } });
    expect(ok.status).toBe(200);
    started.child.kill('SIGINT');
    expect(await started.exited).toBe(0);
    await rm(data, { recursive: true, force: true });
  });

  it('refuses bad flags with exit code 2', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', 'http'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('USAGE');
  });
});
