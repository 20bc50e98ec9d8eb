import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isCoserError } from '@coser/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isImageFileName, parseInputFlags, parseSetFlags, planRunItems } from './run-inputs';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isCoserError(error) ? error.code : 'not a CoserError';
  }
  return undefined;
}

describe('flag parsing', () => {
  it('splits --set at the first = and parses values; node ids may contain dots', () => {
    const sets = parseSetFlags(['up.tileSize=256', 'a.b.c=x=y', 'r.antialias=false', 'r.name="4"']);
    expect(sets).toEqual({ 'up.tileSize': 256, 'a.b.c': 'x=y', 'r.antialias': false, 'r.name': '4' });
  });

  it('refuses malformed --set and --input as usage errors', () => {
    expect(codeOf(() => parseSetFlags(['scale=2']))).toBe('USAGE');
    expect(codeOf(() => parseSetFlags(['.scale=2']))).toBe('USAGE');
    expect(codeOf(() => parseSetFlags(['node.=2']))).toBe('USAGE');
    expect(codeOf(() => parseInputFlags(['photo.png']))).toBe('USAGE');
    expect(codeOf(() => parseInputFlags(['=photo.png']))).toBe('USAGE');
    expect(codeOf(() => parseInputFlags(['image=']))).toBe('USAGE');
    expect(codeOf(() => parseInputFlags(['image=a.png', 'image=b.png']))).toBe('USAGE');
  });

  it('keeps prototype keys as plain data', () => {
    const inputs = parseInputFlags(['__proto__=x.png']);
    expect(Object.keys(inputs)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});

describe('planRunItems', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'coser-plan-'));
    await mkdir(path.join(dir, 'photos'));
    await mkdir(path.join(dir, 'photos', 'nested.png'));
    await mkdir(path.join(dir, 'empty'));
    for (const name of ['b.PNG', 'a.jpg', 'c.webp', 'notes.txt', 'd.jpeg']) {
      await writeFile(path.join(dir, 'photos', name), 'x');
    }
    await writeFile(path.join(dir, 'ref.png'), 'x');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('one item for plain files, with absolute paths, roots and protected paths', async () => {
    const plan = await planRunItems({ image: 'ref.png' }, dir);
    expect(plan.batch).toBe(false);
    expect(plan.items).toEqual([{ label: 'ref.png', inputs: { image: path.join(dir, 'ref.png') } }]);
    expect(plan.inputRoots).toEqual([dir]);
    expect(plan.protectedPaths).toEqual([path.join(dir, 'ref.png')]);
  });

  it('a folder gives one item per image file, sorted, other inputs fixed', async () => {
    const plan = await planRunItems({ image: 'photos', reference: 'ref.png' }, dir);
    expect(plan.batch).toBe(true);
    expect(plan.items.map((i) => i.label)).toEqual(['a.jpg', 'b.PNG', 'c.webp', 'd.jpeg']);
    expect(plan.items[1]?.inputs).toEqual({
      image: path.join(dir, 'photos', 'b.PNG'),
      reference: path.join(dir, 'ref.png'),
    });
    // Every file of the folder is protected, images or not.
    expect(plan.protectedPaths).toContain(path.join(dir, 'photos', 'notes.txt'));
    expect(plan.inputRoots).toEqual(expect.arrayContaining([path.join(dir, 'photos'), dir]));
  });

  it('refuses a missing path and an empty folder (exit 1), two folders (usage)', async () => {
    const codes = await Promise.all(
      (
        [{ image: 'missing.png' }, { image: 'empty' }, { image: 'photos', other: 'empty' }] as Record<string, string>[]
      ).map((inputs) =>
        planRunItems(inputs, dir).then(
          () => 'resolved',
          (error: unknown) => (isCoserError(error) ? error.code : 'not a CoserError'),
        ),
      ),
    );
    expect(codes).toEqual(['FILE_NOT_FOUND', 'FILE_NOT_FOUND', 'USAGE']);
  });

  it('knows image extensions regardless of case', () => {
    expect(['a.PNG', 'b.Jpeg', 'c.webp', 'd.jpg'].every(isImageFileName)).toBe(true);
    expect(['a.gif', 'b.txt', 'png', 'c.png.bak'].some(isImageFileName)).toBe(false);
  });
});
