// `coser models list | add | verify | install-defaults` as a real child process on a temp models folder.
import { readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../packages/nodes/src/onnx/builder';
import { runCli } from './helpers/run-cli';
import { makeTempDir } from './helpers/temp-dir';

let dir = '';
let models = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => {
  ({ dir, remove } = await makeTempDir('coser-models-cli-'));
  models = path.join(dir, 'models');
});
afterAll(() => remove());

describe('coser models', () => {
  it('install-defaults converts the default set, then list and verify report it', async () => {
    const install = await runCli(['models', 'install-defaults', '--models', models]);
    expect(install.code).toBe(0);
    expect(install.stderr).toContain('default models ready');

    const list = await runCli(['models', 'list', '--json', '--models', models]);
    expect(list.code).toBe(0);
    const listing = JSON.parse(list.stdout) as { models: { name: string; installed?: { sha256: string } }[] };
    const installed = listing.models.filter((m) => m.installed).map((m) => m.name);
    expect(installed.sort()).toEqual(['esrgan-medium-x2', 'esrgan-medium-x4', 'esrgan-slim-x2', 'esrgan-slim-x4']);
    expect(listing.models.some((m) => m.name === 'real-cugan-up4x-conservative')).toBe(true);

    const text = await runCli(['models', 'list', '--models', models]);
    expect(text.stdout).toMatch(/installed\s+esrgan-medium-x4\s+x4/);

    const verify = await runCli(['models', 'verify', '--models', models]);
    expect(verify.code).toBe(0);
    expect(verify.stdout.match(/^ok /gm)).toHaveLength(4);
  });

  it('verify fails with MODEL_CORRUPT on a truncated model and names it', async () => {
    const file = path.join(models, 'esrgan-slim-x2.onnx');
    const size = (await readFile(file)).length;
    await truncate(file, size - 100);
    const verify = await runCli(['models', 'verify', 'esrgan-slim-x2', '--models', models]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('MODEL_CORRUPT esrgan-slim-x2');
    // add repairs it: the damaged copy is converted again.
    const add = await runCli(['models', 'add', 'esrgan-slim-x2', '--models', models]);
    expect(add.code).toBe(0);
    expect(add.stderr).toContain('damaged');
    expect((await runCli(['models', 'verify', 'esrgan-slim-x2', '--models', models])).code).toBe(0);
  });

  it('refuses pickles and unknown names with their codes, and bad usage with exit 2', async () => {
    const pth = await runCli(['models', 'add', 'weights.pth', '--models', models]);
    expect(pth.code).toBe(1);
    expect(pth.stderr).toContain('MODEL_FORBIDDEN');
    const unknown = await runCli(['models', 'add', 'no-such-model', '--models', models]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('MODEL_MISSING');
    const noName = await runCli(['models', 'add', 'x.onnx', '--models', models]);
    expect(noName.code).toBe(2);
  });

  it('imports an ONNX file with --name and --scale', async () => {
    const b = new OnnxGraphBuilder('nearest-x2');
    b.input('input', 'float32', [1, 3, 'h', 'w']);
    const scales = b.initializer('scales', 'float32', [4], Float32Array.of(1, 1, 2, 2));
    b.node('Resize', ['input', '', scales], { outputs: ['output'], attributes: { mode: 'nearest' } });
    b.output('output', 'float32', [1, 3, 'H', 'W']);
    const file = path.join(dir, 'nearest.onnx');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, b.toBytes());
    const add = await runCli(['models', 'add', file, '--name', 'nearest-x2', '--scale', '2', '--models', models]);
    expect(add.code).toBe(0);
    const list = JSON.parse((await runCli(['models', 'list', '--json', '--models', models])).stdout) as {
      models: { name: string; inCatalogue: boolean }[];
    };
    expect(list.models.find((m) => m.name === 'nearest-x2')?.inCatalogue).toBe(false);
  });
});

describe('coser run --install-models', () => {
  const SAMPLE = path.join(import.meta.dirname, '../graphs/samples/astronaut-lr.png');
  const graphFor = (model: string) => ({
    format: 'coser-graph',
    version: 1,
    name: 'install then run',
    description: '',
    nodes: [
      { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: '' } },
      { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model } },
      { id: 'save', type: 'io.saveImage', typeVersion: 1, params: { filename: '{name}-up', format: 'png' } },
    ],
    edges: [
      { from: { node: 'load', port: 'image' }, to: { node: 'up', port: 'image' } },
      { from: { node: 'up', port: 'image' }, to: { node: 'save', port: 'image' } },
    ],
    inputs: { image: { node: 'load', param: 'path' } },
  });

  it('installs the catalogue models a graph names into an empty models folder before running it', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const fresh = path.join(dir, 'fresh-models');
    await mkdir(fresh);
    const graph = path.join(dir, 'slim-x2.json');
    await writeFile(graph, JSON.stringify(graphFor('esrgan-slim-x2')));
    const out = path.join(dir, 'out-install');
    const args = ['run', graph, '--input', `image=${SAMPLE}`, '--models', fresh, '--output', out];
    const run = await runCli([...args, '--install-models'], { timeoutMs: 120_000 });
    expect(run.stderr).not.toMatch(/MODEL_/);
    expect(run.code).toBe(0);
    // Installed as `coser models add` does (its lines on stderr), then run (the outputs summary on stdout).
    const installing = run.stderr.indexOf('installing esrgan-slim-x2');
    const installed = run.stderr.indexOf('installed esrgan-slim-x2');
    expect(installing).toBeGreaterThanOrEqual(0);
    expect(installed).toBeGreaterThan(installing);
    expect(run.stdout).toContain('astronaut-lr-up.png');
    const record = JSON.parse(await readFile(path.join(fresh, 'esrgan-slim-x2.json'), 'utf8')) as { sha256: string };
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(
      (await import('sharp')).default(path.join(out, 'astronaut-lr-up.png')).metadata(),
    ).resolves.toMatchObject({
      width: 128,
      height: 128,
    });

    // Already installed: nothing is installed again.
    const again = await runCli([...args, '--install-models'], { timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('installing');
  }, 180_000);

  it('leaves names outside the catalogue to validation, and is refused with --server', async () => {
    const { writeFile } = await import('node:fs/promises');
    const graph = path.join(dir, 'unknown-model.json');
    await writeFile(graph, JSON.stringify(graphFor('no-such-model')));
    const unknown = await runCli(
      ['run', graph, '--input', `image=${SAMPLE}`, '--models', models, '--install-models', '--output', dir],
      { timeoutMs: 120_000 },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('MODEL_MISSING');
    expect(unknown.stderr).not.toContain('installing');
    const remote = await runCli(['run', graph, '--server', 'http://127.0.0.1:9', '--token', 't', '--install-models']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--install-models');
  });
});
