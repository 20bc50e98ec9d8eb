import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { allowedOriginSet, originAllowed, ownerId, tokenMatches } from './security';

describe('origins', () => {
  it('allows the server’s own origin and loopback aliases, never null', () => {
    const set = allowedOriginSet('127.0.0.1', 8188, ['http://localhost:5173/', 'null']);
    expect([...set].sort()).toEqual(
      ['http://127.0.0.1:8188', 'http://[::1]:8188', 'http://localhost:5173', 'http://localhost:8188'].sort(),
    );
    expect(originAllowed(undefined, set)).toBe(true);
    expect(originAllowed('null', set)).toBe(false);
    expect(originAllowed('http://127.0.0.1:8189', set)).toBe(false);
    expect(originAllowed('https://127.0.0.1:8188', set)).toBe(false);
  });

  it('on a wildcard bind, allows each local interface address', () => {
    const set = allowedOriginSet('0.0.0.0', 80, []);
    const ipv4 = Object.values(networkInterfaces())
      .flat()
      .find((a) => a?.family === 'IPv4');
    if (ipv4) expect(set.has(`http://${ipv4.address}:80`)).toBe(true);
    expect(set.has('http://evil.example:80')).toBe(false);
  });

  it('binds a specific address only to itself', () => {
    expect([...allowedOriginSet('192.168.1.5', 8188, [])]).toEqual(['http://192.168.1.5:8188']);
  });
});

describe('tokens and owners', () => {
  it('compares tokens exactly and refuses non-strings', () => {
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-token', 'secret-token ')).toBe(false);
    expect(tokenMatches('secret-token', '')).toBe(false);
    expect(tokenMatches('secret-token', ['secret-token'])).toBe(false);
    expect(tokenMatches('secret-token', undefined)).toBe(false);
  });

  it('derives owners from token and client key', () => {
    expect(ownerId('t', 'a')).toBe(ownerId('t', 'a'));
    expect(ownerId('t', 'a')).not.toBe(ownerId('t', 'b'));
    expect(ownerId('t', 'a')).not.toBe(ownerId('u', 'a'));
    expect(ownerId('t', undefined)).toBe(ownerId('t', ''));
    expect(ownerId('t', { key: 1 })).toBe(ownerId('t', ''));
  });
});
