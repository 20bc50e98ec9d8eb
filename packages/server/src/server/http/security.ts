import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from './errors';

/**
 * The server's token: `COSER_TOKEN` when set, else the one stored in `DATA/token`, else a new one (32 random bytes,
 * base64url) written there with mode 0600.
 */
export async function loadOrCreateToken(
  dataDir: string,
  fromEnv = process.env['COSER_TOKEN'],
): Promise<{ token: string; source: 'env' | 'file' | 'generated' }> {
  if (fromEnv && fromEnv.trim() !== '') return { token: fromEnv.trim(), source: 'env' };
  const file = join(dataDir, 'token');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 16) {
      await chmod(file, 0o600);
      return { token: stored, source: 'file' };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { token, source: 'generated' };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison (of digests, so lengths never leak either). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 1024) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** A run's owner: the token plus the client's own key, hashed (see docs/server.md, "Run ownership"). */
export function ownerId(token: string, clientKey: unknown): string {
  const key = typeof clientKey === 'string' ? clientKey.slice(0, 256) : '';
  return createHash('sha256').update(`${token}\n${key}`).digest('hex');
}

/** The token of a REST request: `Authorization: Bearer T` or `x-coser-token: T` (never the query string). */
export function requestToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  return req.get('x-coser-token') ?? undefined;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The origins a browser page may call from: the server's own address (with localhost/127.0.0.1 aliases on loopback)
 * and the configured extra ones. `null` is never in it.
 */
export function allowedOriginSet(host: string, port: number, extra: readonly string[]): Set<string> {
  const hosts = new Set<string>([host]);
  const wildcard = host === '0.0.0.0' || host === '::';
  if (isLoopback(host) || wildcard) {
    hosts.add('localhost');
    hosts.add('127.0.0.1');
    hosts.add('::1');
  }
  if (wildcard) {
    // Bound to every interface: the page's origin is whichever local address the browser used.
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) hosts.add(address.address);
    }
  }
  const origins = new Set<string>();
  for (const h of hosts) {
    const name = isIP(h) === 6 && !h.startsWith('[') ? `[${h}]` : h;
    origins.add(`http://${name}:${port}`);
  }
  for (const origin of extra) {
    try {
      origins.add(new URL(origin).origin);
    } catch {
      // An unparsable --allow-origin is refused when the server starts (createServer validates it).
    }
  }
  origins.delete('null');
  return origins;
}

/** undefined = no Origin header (fine: not a browser page); true/false = allowed or not. */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  return origin !== 'null' && allowed.has(origin);
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const EDITOR_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' ws: wss: blob: data:",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** Security headers for every response (helmet's defaults that apply here, set by hand). */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-DNS-Prefetch-Control', 'off');
  res.setHeader('X-Permitted-Cross-Domain-Policies', 'none');
  res.removeHeader('X-Powered-By');
  const api = req.path.startsWith('/api/') || req.path === '/health' || req.path === '/ready';
  res.setHeader('Content-Security-Policy', api ? API_CSP : EDITOR_CSP);
  if (!api) {
    // Cross-origin isolation, so the editor's onnxruntime-web can use threaded WASM (SharedArrayBuffer).
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  next();
}

/** Refuses a request from a foreign or `null` Origin (403 FORBIDDEN_ORIGIN). */
export function originGuard(allowed: ReadonlySet<string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('origin');
    if (!originAllowed(origin, allowed)) {
      sendError(res, 'FORBIDDEN_ORIGIN', `requests from origin ${origin} are not allowed`);
      return;
    }
    if (origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, x-coser-token, x-coser-client');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/** Requires the token (401 UNAUTHORIZED) and sets `res.locals.owner` from it and `x-coser-client`. */
export function tokenGuard(token: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = requestToken(req);
    if (!tokenMatches(token, given)) {
      sendError(res, 'UNAUTHORIZED', given ? 'wrong token' : 'a token is required (Authorization: Bearer TOKEN)');
      return;
    }
    res.locals['owner'] = ownerId(token, req.get('x-coser-client'));
    next();
  };
}
