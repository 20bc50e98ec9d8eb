// npm test's pretest (test/prerequisites.mjs): installs Chromium and redis-server as root with apt-get, and
// otherwise stops at once with one line naming what is missing and the command that installs it.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/paths';
import { planPrerequisites, REQUIREMENTS } from './prerequisites.mjs';

/** Runs a command in the repository with a simulated machine (nothing is installed while simulating). */
function run(
  command: string,
  args: string[],
  simulate: { missing: string[]; root: boolean; apt: boolean },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, COSER_TEST_PREREQUISITES_SIMULATE: JSON.stringify(simulate) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the test prerequisites', () => {
  it('are the Debian packages the browser and Redis tests run', () => {
    expect(REQUIREMENTS.map((r) => [r.pkg, r.path])).toEqual([
      ['chromium', '/usr/bin/chromium'],
      ['redis-server', '/usr/bin/redis-server'],
    ]);
  });

  it('plans nothing when all are there, apt-get as root, and otherwise one line with the command', () => {
    expect(planPrerequisites({ missing: [], root: false, apt: false })).toEqual({ action: 'none' });
    expect(planPrerequisites({ missing: ['chromium', 'redis-server'], root: true, apt: true })).toEqual({
      action: 'install',
      packages: ['chromium', 'redis-server'],
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', 'chromium', 'redis-server'],
      ],
    });
    const user = planPrerequisites({ missing: ['chromium', 'redis-server'], root: false, apt: true });
    expect(user).toEqual({
      action: 'stop',
      message:
        'npm test needs chromium and redis-server (missing here): install them with `sudo apt-get install -y chromium redis-server`, then run npm test again',
    });
    const noApt = planPrerequisites({ missing: ['redis-server'], root: true, apt: false });
    expect(noApt.action).toBe('stop');
    expect(noApt.action === 'stop' && noApt.message).toMatch(
      /needs redis-server \(missing here\): install it with your package manager.*`apt-get install -y redis-server`/,
    );
    expect(noApt.action === 'stop' && noApt.message).not.toContain('\n');
  });

  it('`npm run pretest` stops at once without root, and says what it installs as root', async () => {
    const stopped = await run('npm', ['run', 'pretest', '--silent'], {
      missing: ['chromium', 'redis-server'],
      root: false,
      apt: true,
    });
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr.trim().split('\n')).toEqual([
      'npm test needs chromium and redis-server (missing here): install them with `sudo apt-get install -y chromium redis-server`, then run npm test again',
    ]);

    const root = await run('node', ['test/prerequisites.mjs'], { missing: ['redis-server'], root: true, apt: true });
    expect(root.code).toBe(0);
    expect(root.stdout).toContain('installing redis-server for the Redis scale-out tests');
    expect(root.stdout).toContain('would run: apt-get install -y -qq redis-server');

    const ready = await run('node', ['test/prerequisites.mjs'], { missing: [], root: false, apt: false });
    expect(ready).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
