// The `coser` command line end to end: every test spawns `node packages/server/bin/coser.js` as a real child
// process (pipes, not a terminal) and checks exit codes, files written and what was printed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type CoserServer, createServer } from '@coser/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGraph } from './helpers/graphs';
import { copySamples, pngSize, SAMPLE_NAMES, writeTruncatedPng } from './helpers/images';
import { COSER_BIN, GRAPHS_DIR } from './helpers/paths';
import { hasStackTrace, parseNdjson, runCli } from './helpers/run-cli';
import { makeTempDir } from './helpers/temp-dir';

let dir = '';
let removeDir: () => Promise<void> = async () => {};
/** load -> resize x2 -> save '{name}-x2' (graph input `image`). */
let resizeGraph = '';

beforeAll(async () => {
  ({ dir, remove: removeDir } = await makeTempDir('coser-cli-'));
  await mkdir(path.join(dir, 'in'));
  await copySamples(path.join(dir, 'in'));
  await writeTruncatedPng(path.join(dir, 'in', 'broken.png'));
  await writeFile(path.join(dir, 'in', 'notes.txt'), 'not an image: folder runs skip it');
  resizeGraph = await writeGraph(
    dir,
    'resize.json',
    [
      { id: 'load', type: 'io.loadImage' },
      { id: 'resize', type: 'image.resize', params: { scale: 2, filter: 'bicubic' } },
      { id: 'save', type: 'io.saveImage', params: { filename: '{name}-x2' } },
    ],
    ['load.image -> resize.image', 'resize.image -> save.image'],
    { image: 'load.path' },
  );
});

afterAll(() => removeDir());

/** Runs the CLI in the test folder and checks what every run must satisfy: no stack trace for users. */
async function coser(...args: string[]) {
  const result = await runCli(args, { cwd: dir });
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
  return result;
}

async function pngSizeOf(file: string) {
  return pngSize(new Uint8Array(await readFile(file)));
}

describe('coser run', () => {
  it('runs a graph on one file, writes the output and lists it', async () => {
    const { code, stdout, stderr } = await coser(
      'run',
      'resize.json',
      '--input',
      'image=in/astronaut-lr.png',
      '-o',
      'out1',
    );
    expect(code, stderr).toBe(0);
    expect(await pngSizeOf(path.join(dir, 'out1', 'astronaut-lr-x2.png'))).toEqual({ width: 128, height: 128 });
    expect(stdout).toContain(path.join('out1', 'astronaut-lr-x2.png'));
    expect(stderr).toMatch(/\[resize\] done in \d+ ms/);
  });

  it('refuses before running an input whose result would pass the pixel cap (size from the file header)', async () => {
    const { code, stderr } = await coser(
      'run',
      'resize.json',
      '--input',
      'image=in/astronaut-lr.png',
      '--max-pixels',
      '10000',
      '-o',
      'capped',
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/IMAGE_TOO_LARGE resize\.image: .*128x128 \(16384 pixels\), over the cap of 10000/);
    expect(stderr).not.toMatch(/\[resize\] done/);
    expect(await readdir(path.join(dir, 'capped')).catch(() => [])).toEqual([]);
  });

  it('runs once per image of a folder, reports the corrupt one at the end and exits 1', async () => {
    const { code, stdout, stderr } = await coser('run', resizeGraph, '--input', 'image=in', '--output', 'batch');
    expect(code).toBe(1);
    const written = (await readdir(path.join(dir, 'batch'))).filter((f) => !f.startsWith('.')).sort();
    expect(written).toEqual(['astronaut-lr-x2.png', 'chelsea-lr-x2.png']);
    expect(stdout).toContain('failed: 1 of 3');
    expect(stdout).toMatch(/broken\.png: IMAGE_CORRUPT/);
    // Runs go in name order and the failure did not stop the ones after it.
    expect(stderr.indexOf('[1/3] astronaut-lr.png')).toBeLessThan(stderr.indexOf('[2/3] broken.png'));
    expect(stderr).toContain('[3/3] chelsea-lr.png');
  });

  it('prints NDJSON events in order with --json, and a final summary', async () => {
    const { code, stdout } = await coser(
      'run',
      'resize.json',
      '-i',
      'image=in/chelsea-lr.png',
      '-o',
      'out-json',
      '--json',
    );
    expect(code).toBe(0);
    const lines = parseNdjson(stdout);
    const types = lines.map((l) => l['type']);
    expect(types[0]).toBe('cli:item');
    expect(types[1]).toBe('run:started');
    expect(types.at(-2)).toBe('run:done');
    expect(types.at(-1)).toBe('cli:summary');
    for (const node of ['load', 'resize', 'save']) {
      const started = lines.findIndex((l) => l['type'] === 'node:started' && l['node'] === node);
      const done = lines.findIndex((l) => l['type'] === 'node:done' && l['node'] === node);
      expect(started, node).toBeGreaterThan(1);
      expect(done, node).toBeGreaterThan(started);
    }
    // Save runs after Resize, which runs after Load.
    const doneOrder = lines.filter((l) => l['type'] === 'node:done').map((l) => l['node']);
    expect(doneOrder).toEqual(['load', 'resize', 'save']);
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ ok: true, total: 1, failed: 0 });
    expect(JSON.stringify(summary)).toContain('chelsea-lr-x2.png');
  });

  it('--set changes a node param', async () => {
    const { code, stderr } = await coser(
      'run',
      'resize.json',
      '-i',
      'image=in/astronaut-lr.png',
      '--set',
      'resize.scale=3',
      '-o',
      'out-set',
    );
    expect(code, stderr).toBe(0);
    expect(await pngSizeOf(path.join(dir, 'out-set', 'astronaut-lr-x2.png'))).toEqual({ width: 192, height: 192 });
  });

  it('never overwrites an input, even when the output folder is the input folder', async () => {
    const same = path.join(dir, 'same');
    await mkdir(same);
    await copySamples(same);
    const before = await Promise.all(SAMPLE_NAMES.map((n) => readFile(path.join(same, n))));
    const graph = await writeGraph(
      dir,
      'copy.json',
      [
        { id: 'load', type: 'io.loadImage' },
        { id: 'save', type: 'io.saveImage', params: { filename: '{name}', format: 'png' } },
      ],
      ['load.image -> save.image'],
      { image: 'load.path' },
    );
    const { code, stdout } = await coser('run', graph, '--input', `image=${same}`, '--output', same);
    expect(code).toBe(1);
    expect(stdout).toContain('failed: 2 of 2');
    expect(stdout).toContain('OUTPUT_OVERWRITES_INPUT');
    const after = await Promise.all(SAMPLE_NAMES.map((n) => readFile(path.join(same, n))));
    expect(after).toEqual(before);
    expect((await readdir(same)).sort()).toEqual([...SAMPLE_NAMES]);

    // An --output naming an input file is refused before anything runs.
    const onFile = await coser('run', graph, '-i', `image=${same}`, '-o', path.join(same, SAMPLE_NAMES[0]));
    expect(onFile.code).toBe(1);
    expect(onFile.stderr).toContain('error PATH_FORBIDDEN');
    expect(await readFile(path.join(same, SAMPLE_NAMES[0]))).toEqual(before[0]);
  });

  it('prints Compare metrics as a table (degrade-and-compare preset)', async () => {
    const preset = path.join(GRAPHS_DIR, 'degrade-and-compare.json');
    const { code, stdout, stderr } = await coser('run', preset, '-i', 'image=in/astronaut-lr.png', '-o', 'out-metrics');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/metrics:\n\s+psnr/);
    const row = stdout.split('\n').find((l) => l.trim().startsWith('compare'));
    expect(row).toMatch(/compare\s+\d+\.\d+/);
  });

  it("reads a preset's own sample (a path relative to the graph's folder) when no --input is given", async () => {
    const preset = path.join(GRAPHS_DIR, 'resize-and-fix.json');
    const outputDir = path.join(dir, 'out-preset');
    const { code, stderr } = await coser('run', preset, '--output', outputDir);
    expect(code, stderr).toBe(0);
    expect(await pngSizeOf(path.join(outputDir, 'chelsea-lr-x4.png'))).toEqual({ width: 256, height: 256 });
  });

  it('draws one progress bar per node on a terminal', async (ctx) => {
    // `script` (util-linux) gives the command a pseudo-terminal, as a user's shell would.
    if (spawnSync('script', ['--version']).status !== 0) ctx.skip('needs util-linux `script` for a pseudo-terminal');
    const command = `"${process.execPath}" "${COSER_BIN}" run resize.json -i image=in/astronaut-lr.png -o out-tty`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stdout).toBe(0);
    // Cursor control codes mean bars were drawn (plain lines never contain them).
    expect(result.stdout).toContain('\u001b[');
    for (const node of ['load', 'resize', 'save']) expect(result.stdout).toMatch(new RegExp(`${node}\\s+#+ 100%`));
    expect(result.stdout).toContain(path.join('out-tty', 'astronaut-lr-x2.png'));
    expect(hasStackTrace(result.stdout)).toBe(false);
  });

  it('Ctrl-C cancels the run in progress and skips the rest (exit 130)', async () => {
    const slow = await writeGraph(
      dir,
      'slow.json',
      [
        { id: 'load', type: 'io.loadImage' },
        { id: 'big', type: 'image.resize', params: { scale: 16, filter: 'lanczos' } },
        { id: 'bigger', type: 'image.resize', params: { scale: 4, filter: 'lanczos' } },
        { id: 'save', type: 'io.saveImage', params: { filename: '{name}-huge' } },
      ],
      ['load.image -> big.image', 'big.image -> bigger.image', 'bigger.image -> save.image'],
      { image: 'load.path' },
    );
    const child = spawn(process.execPath, [COSER_BIN, 'run', slow, '-i', 'image=in', '-o', 'out-cancel', '--json'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!interrupted && stdout.includes('"node:started"')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(130);
    const lines = parseNdjson(stdout);
    expect(lines.map((l) => l['type'])).toContain('run:cancelled');
    const summary = lines.at(-1);
    expect(summary?.['type']).toBe('cli:summary');
    const runs = summary?.['runs'] as { status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(hasStackTrace(stderr)).toBe(false);
  });

  it('gives graph problems their codes and exit 1: unknown node type, cycle, not JSON, missing file', async () => {
    const unknown = await writeGraph(dir, 'unknown.json', [{ id: 'x', type: 'image.fromTheFuture' }], []);
    const cycle = await writeGraph(
      dir,
      'cycle.json',
      [
        { id: 'a', type: 'image.resize' },
        { id: 'b', type: 'image.resize' },
      ],
      ['a.image -> b.image', 'b.image -> a.image'],
    );
    const notJson = path.join(dir, 'broken.json');
    await writeFile(notJson, '{ "format": "coser-graph", "nodes": [');
    const cases: [string, string][] = [
      [unknown, 'UNKNOWN_NODE_TYPE'],
      [cycle, 'GRAPH_CYCLE'],
      [notJson, 'GRAPH_NOT_JSON'],
      [path.join(dir, 'missing.json'), 'FILE_NOT_FOUND'],
    ];
    for (const [graph, codeName] of cases) {
      const { code, stderr } = await coser('run', graph, '-o', 'never');
      expect(code, `${graph}: ${stderr}`).toBe(1);
      expect(stderr).toContain(`error ${codeName}`);
    }
    await expect(readdir(path.join(dir, 'never'))).rejects.toThrow();
  });

  it('exits 2 on usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'resize.json', '--bogus'], /unknown option/],
      [['run'], /missing required argument/],
      [['run', 'resize.json', '--input', 'no-equals-sign'], /--input expects NAME=PATH/],
      [['run', 'resize.json', '--set', 'noparam=1'], /--set expects NODE.PARAM=VALUE/],
      [['run', 'resize.json', '--max-pixels', 'lots'], /positive integer/],
      [['run', 'resize.json', '--input', 'photo=in/astronaut-lr.png'], /UNKNOWN_GRAPH_INPUT/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await coser(...args);
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(2);
      expect(stderr).toMatch(message);
    }
  });
});

describe('coser validate', () => {
  it('exits 0 for a valid graph, 1 for an invalid one, 2 without a graph argument', async () => {
    const valid = await coser('validate', path.join(GRAPHS_DIR, 'resize-and-fix.json'));
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toContain('valid');

    const bad = await writeGraph(dir, 'bad-param.json', [{ id: 'r', type: 'image.resize', params: { scale: 99 } }], []);
    const invalid = await coser('validate', bad, '--json');
    expect(invalid.code).toBe(1);
    const report = JSON.parse(invalid.stdout) as { valid: boolean; diagnostics: { code: string; node?: string }[] };
    expect(report.valid).toBe(false);
    expect(report.diagnostics.map((d) => d.code)).toContain('PARAM_OUT_OF_RANGE');
    expect(report.diagnostics.map((d) => d.code)).toContain('INPUT_UNCONNECTED');

    const missing = await writeGraph(
      dir,
      'missing-input.json',
      [{ id: 'load', type: 'io.loadImage', params: { path: 'no-such-photo.png' } }],
      [],
    );
    const notFound = await coser('validate', missing);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/FILE_NOT_FOUND.*load.*no-such-photo\.png/);

    const usage = await coser('validate');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error USAGE');
  });

  it('checks with --input/--set/--max-pixels as run takes them, once per image of a folder', async () => {
    const one = await coser(
      'validate',
      'resize.json',
      '--input',
      'image=in/astronaut-lr.png',
      '--set',
      'resize.scale=4',
    );
    expect(one.code, one.stderr).toBe(0);
    const capped = await coser('validate', 'resize.json', '-i', 'image=in/astronaut-lr.png', '--max-pixels', '10000');
    expect(capped.code).toBe(1);
    expect(capped.stderr).toMatch(/IMAGE_TOO_LARGE resize\.image: .*128x128/);

    const folder = await coser('validate', 'resize.json', '--input', 'image=in', '--max-pixels', '10000', '--json');
    expect(folder.code).toBe(1);
    const report = JSON.parse(folder.stdout) as { valid: boolean; diagnostics: { code: string; input?: string }[] };
    expect(report.diagnostics.map((d) => [d.input, d.code])).toEqual([
      ['astronaut-lr.png', 'IMAGE_TOO_LARGE'],
      ['broken.png', 'IMAGE_CORRUPT'],
      ['chelsea-lr.png', 'IMAGE_TOO_LARGE'],
    ]);

    const unknown = await coser('validate', 'resize.json', '--input', 'photo=in/astronaut-lr.png');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('UNKNOWN_GRAPH_INPUT');
    expect(unknown.stderr).toContain('error USAGE');
  });
});

describe('coser nodes', () => {
  it('lists the catalog for terminals and as JSON', async () => {
    const text = await coser('nodes');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/image\.resize\s+Resize/);
    expect(text.stdout).toMatch(/scale\s+number\s+= 2\s+\[0\.01\.\.16\]/);

    const json = await coser('nodes', '--json');
    const catalog = JSON.parse(json.stdout) as { type: string; params: { properties?: object } }[];
    expect(catalog.map((e) => e.type)).toEqual(
      expect.arrayContaining(['io.loadImage', 'io.saveImage', 'metrics.compare']),
    );
    expect(catalog.find((e) => e.type === 'image.resize')?.params.properties).toHaveProperty('filter');
  });
});

describe('coser run --server', () => {
  let server: CoserServer | undefined;
  beforeAll(async () => {
    server = await createServer({ dataDir: path.join(dir, 'server-data'), port: 0, editorDir: false, log: () => {} });
  });
  afterAll(() => server?.close());

  it('uploads each image of a folder, runs on the server and downloads outputs under the local names', async () => {
    if (!server) throw new Error('server did not start');
    const { code, stdout, stderr } = await coser(
      'run',
      'resize.json',
      '--input',
      'image=in',
      '--server',
      server.url,
      '--token',
      server.token,
      '-o',
      'remote-out',
    );
    expect(code, stderr).toBe(1);
    const written = (await readdir(path.join(dir, 'remote-out'))).sort();
    expect(written).toEqual(['astronaut-lr-x2.png', 'chelsea-lr-x2.png']);
    expect(await pngSizeOf(path.join(dir, 'remote-out', 'chelsea-lr-x2.png'))).toEqual({ width: 128, height: 128 });
    expect(stdout).toContain(path.join('remote-out', 'astronaut-lr-x2.png'));
    // The server refuses the corrupt upload; the batch goes on.
    expect(stdout).toMatch(/broken\.png: IMAGE_CORRUPT/);
    expect(stderr).toMatch(/\[resize\] done in \d+ ms/);
  });

  it('refuses a wrong token (exit 1); --server without a token or with an unknown input is a usage error', async () => {
    if (!server) throw new Error('server did not start');
    const wrong = await coser(
      'run',
      'resize.json',
      '-i',
      'image=in/astronaut-lr.png',
      '--server',
      server.url,
      '--token',
      'nope',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('UNAUTHORIZED');
    const missing = await runCli(['run', 'resize.json', '--server', server.url], {
      cwd: dir,
      env: { COSER_TOKEN: '' },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--server needs --token');
    const unknownInput = await coser(
      'run',
      'resize.json',
      '-i',
      'photo=in/astronaut-lr.png',
      '--server',
      server.url,
      '--token',
      server.token,
    );
    expect(unknownInput.code).toBe(2);
    expect(unknownInput.stderr).toContain('no input "photo"');
  });
});
