import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResolvedModel } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeHost } from './node-host';

let dir: string;
let inputs: string;
let outputs: string;
let outside: string;
let models: string;

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof CoserError) return error.code;
    throw error;
  }
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'coser-host-'));
  inputs = path.join(dir, 'inputs');
  outputs = path.join(dir, 'outputs');
  outside = path.join(dir, 'outside');
  models = path.join(dir, 'models');
  await Promise.all(
    [inputs, outputs, outside, path.join(models, 'coser-set')].map((d) => mkdir(d, { recursive: true })),
  );
  await writeFile(path.join(inputs, 'photo.png'), 'PHOTO');
  await writeFile(path.join(inputs, 'a..b.png'), 'DOTS');
  await writeFile(path.join(outside, 'secret.txt'), 'SECRET');
  await symlink(path.join(outside, 'secret.txt'), path.join(inputs, 'link.png'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readInput', () => {
  it('reads a file inside an input root, by relative or absolute name', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(new TextDecoder().decode(await host.readInput('photo.png'))).toBe('PHOTO');
    expect(new TextDecoder().decode(await host.readInput(path.join(inputs, 'photo.png')))).toBe('PHOTO');
    expect(new TextDecoder().decode(await host.readInput('a..b.png'))).toBe('DOTS');
  });

  it('refuses paths that leave the roots, symlinks out, absolute outside paths and NUL bytes', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(host.readInput('../outside/secret.txt'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('sub/../../outside/secret.txt'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput(path.join(outside, 'secret.txt')))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('/etc/passwd'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('link.png'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('photo.png\0.txt'))).toBe('PATH_FORBIDDEN');
  });

  it('reads a named folder under its prefix only, and nothing beside it', async () => {
    const samples = path.join(dir, 'graphs', 'samples');
    await mkdir(samples, { recursive: true });
    await writeFile(path.join(samples, 'astronaut.png'), 'SAMPLE');
    await writeFile(path.join(dir, 'graphs', 'preset.json'), '{}');
    await symlink(path.join(outside, 'secret.txt'), path.join(samples, 'link.png'));
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs, namedInputFolders: { samples } });
    expect(new TextDecoder().decode(await host.readInput('samples/astronaut.png'))).toBe('SAMPLE');
    expect((await host.inspectInput!('samples/astronaut.png')).bytes).toBe(6);
    // The regular roots still work; the folder is reachable by its prefix only, never by its real path.
    expect(new TextDecoder().decode(await host.readInput('photo.png'))).toBe('PHOTO');
    expect(await code(host.readInput('astronaut.png'))).toBe('FILE_NOT_FOUND');
    expect(await code(host.readInput(path.join(samples, 'astronaut.png')))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('samples/../preset.json'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('samples/../../outside/secret.txt'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('samples/link.png'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.readInput('samples/missing.png'))).toBe('FILE_NOT_FOUND');
  });

  it('takes encoded and backslash names literally (not found, never decoded)', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(host.readInput('%2e%2e%2foutside%2fsecret.txt'))).toBe('FILE_NOT_FOUND');
    expect(await code(host.readInput('..\\outside\\secret.txt'))).toBe('FILE_NOT_FOUND');
  });

  it('reports missing files, folders and files over the size cap', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs, maxInputBytes: 4 });
    expect(await code(host.readInput('missing.png'))).toBe('FILE_NOT_FOUND');
    expect(await code(host.readInput(''))).toBe('FILE_NOT_FOUND');
    await mkdir(path.join(inputs, 'folder'));
    expect(await code(host.readInput('folder'))).toBe('FILE_NOT_FOUND');
    expect(await code(host.readInput('photo.png'))).toBe('FILE_TOO_LARGE');
    const roomy = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(roomy.readInput('photo.png', { maxBytes: 2 }))).toBe('FILE_TOO_LARGE');
  });
});

describe('writeOutput', () => {
  it('writes atomically inside the output folder and returns the final path', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: path.join(outputs, 'new') });
    const written = await host.writeOutput('result.png', new TextEncoder().encode('one'));
    expect(written).toBe(path.join(outputs, 'new', 'result.png'));
    await host.writeOutput('result.png', new TextEncoder().encode('two'));
    expect(await readFile(written, 'utf8')).toBe('two');
    expect(await host.writeOutput('a..b.png', new Uint8Array([1]))).toBe(path.join(outputs, 'new', 'a..b.png'));
    // No temp files are left behind.
    expect((await readdir(path.join(outputs, 'new'))).sort()).toEqual(['a..b.png', 'result.png']);
  });

  it.each([
    '../escape.png',
    '..',
    '/tmp/abs.png',
    'sub/file.png',
    '..\\escape.png',
    'C:evil.png',
    'nul\0.png',
    '',
    `${'x'.repeat(252)}.png`,
  ])('refuses the name %j', async (name) => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(host.writeOutput(name, new Uint8Array([1])))).toBe('PATH_FORBIDDEN');
    expect(await readdir(outputs)).toEqual([]);
  });

  it('takes %2e%2e%2f literally as a file name inside the folder', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await host.writeOutput('%2e%2e%2fx.png', new Uint8Array([1]))).toBe(path.join(outputs, '%2e%2e%2fx.png'));
  });

  it('accepts a name of 255 bytes and reports an unwritable folder as PATH_FORBIDDEN', async () => {
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    const long = `${'x'.repeat(251)}.png`;
    expect(await host.writeOutput(long, new Uint8Array([1]))).toBe(path.join(outputs, long));
    const denied = createNodeHost({
      inputRoots: [inputs],
      outputDir: outputs,
      writeFile: async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    });
    expect(await code(denied.writeOutput('x.png', new Uint8Array([1])))).toBe('PATH_FORBIDDEN');
  });

  it('refuses to write through a symlink that leads out of the output folder', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(outputs, 'evil.png'));
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(host.writeOutput('evil.png', new Uint8Array([1])))).toBe('PATH_FORBIDDEN');
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('SECRET');
  });

  it('never overwrites a protected input or a file read as input', async () => {
    const host = createNodeHost({
      inputRoots: [inputs],
      outputDir: inputs,
      protectedPaths: [path.join(inputs, 'photo.png')],
    });
    expect(await code(host.writeOutput('photo.png', new Uint8Array([1])))).toBe('OUTPUT_OVERWRITES_INPUT');
    await host.readInput('a..b.png');
    expect(await code(host.writeOutput('a..b.png', new Uint8Array([1])))).toBe('OUTPUT_OVERWRITES_INPUT');
    expect(await readFile(path.join(inputs, 'photo.png'), 'utf8')).toBe('PHOTO');
  });

  it('reports a full disk as DISK_FULL and removes the temp file', async () => {
    const host = createNodeHost({
      inputRoots: [inputs],
      outputDir: outputs,
      async writeFile(file, bytes) {
        await writeFile(file, bytes.subarray(0, 1));
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    expect(await code(host.writeOutput('big.png', new Uint8Array(100)))).toBe('DISK_FULL');
    expect(await readdir(outputs)).toEqual([]);
  });
});

describe('models', () => {
  it('resolveModel says MODEL_MISSING without a resolver and delegates with one', async () => {
    const bare = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(bare.resolveModel('esrgan-slim-x4'))).toBe('MODEL_MISSING');
    const resolved: ResolvedModel = { source: { key: 'k', name: 'm' }, entry: { task: 'sr' } };
    const host = createNodeHost({
      inputRoots: [inputs],
      outputDir: outputs,
      models: { resolve: async (name) => (name === 'm' ? resolved : Promise.reject(new Error('no'))) },
    });
    expect(await host.resolveModel('m')).toBe(resolved);
  });

  it('resolveModelFile returns path, size, key and bytes of a file inside the set', async () => {
    await writeFile(path.join(models, 'coser-set', 'manifest.json'), '{"a":1}');
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs, modelsDir: models });
    const model = await host.resolveModelFile!('coser-set', 'manifest.json');
    const file = path.join(models, 'coser-set', 'manifest.json');
    expect(model.source.name).toBe('coser-set/manifest.json');
    expect(model.source.path).toBe(file);
    expect(model.source.sizeBytes).toBe(7);
    expect(model.source.key).toContain(file);
    expect(model.source.key).toContain(String((await stat(file)).mtimeMs));
    expect(new TextDecoder().decode(model.source.bytes)).toBe('{"a":1}');
  });

  it('resolveModelFile refuses escapes and reports missing files', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(models, 'coser-set', 'linked.onnx'));
    const host = createNodeHost({ inputRoots: [inputs], outputDir: outputs, modelsDir: models });
    expect(await code(host.resolveModelFile!('coser-set', '../../outside/secret.txt'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.resolveModelFile!('..', 'outside/secret.txt'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.resolveModelFile!('coser-set', path.join(outside, 'secret.txt')))).toBe('PATH_FORBIDDEN');
    expect(await code(host.resolveModelFile!('coser-set', 'linked.onnx'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.resolveModelFile!('coser-set', 'x\0.onnx'))).toBe('PATH_FORBIDDEN');
    expect(await code(host.resolveModelFile!('coser-set', 'missing.onnx'))).toBe('MODEL_MISSING');
    const noDir = createNodeHost({ inputRoots: [inputs], outputDir: outputs });
    expect(await code(noDir.resolveModelFile!('coser-set', 'manifest.json'))).toBe('MODEL_MISSING');
  });
});
