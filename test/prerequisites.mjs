#!/usr/bin/env node
// `npm test`'s pretest: the system programs the tests drive for real (Chromium for the browser tests, redis-server
// for the scale-out tests). Missing ones are installed from Debian's packages when this runs as root with apt-get
// (what CI does: .ci/run calls `npm test`); otherwise it stops at once with one line naming them and the command that
// installs them, instead of letting a 4-minute test run fail in three files at the end.
//
// Plain JavaScript with no dependencies: it runs before anything else of the test command.
// COSER_TEST_PREREQUISITES_SIMULATE='{"missing":["chromium"],"root":false,"apt":true}' replaces the probe of this
// machine (tests of this script; nothing is installed while simulating).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the tests need from the system: the Debian package and the exact path the tests run it from. */
export const REQUIREMENTS = [
  { pkg: 'chromium', path: '/usr/bin/chromium', usedBy: 'the browser tests (test/browser)' },
  { pkg: 'redis-server', path: '/usr/bin/redis-server', usedBy: 'the Redis scale-out tests (test/scale)' },
];

/**
 * Decides what to do about missing packages.
 * @param {{ missing: string[], root: boolean, apt: boolean }} probe
 * @returns {{ action: 'none' } | { action: 'install', packages: string[], commands: string[][] } |
 *   { action: 'stop', message: string }}
 */
export function planPrerequisites({ missing, root, apt }) {
  if (missing.length === 0) return { action: 'none' };
  const list = missing.join(' ');
  const names = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  const them = missing.length === 1 ? 'it' : 'them';
  if (root && apt) {
    return {
      action: 'install',
      packages: missing,
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', ...missing],
      ],
    };
  }
  const command = `${root ? '' : 'sudo '}apt-get install -y ${list}`;
  return {
    action: 'stop',
    message: apt
      ? `npm test needs ${names} (missing here): install ${them} with \`${command}\`, then run npm test again`
      : `npm test needs ${names} (missing here): install ${them} with your package manager (on Debian/Ubuntu: \`${command}\`), then run npm test again`,
  };
}

/** Whether `name` is an executable on PATH. */
function onPath(name) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** This machine: which required packages are missing, whether we are root, whether apt-get exists. */
export function probeMachine() {
  return {
    missing: REQUIREMENTS.filter((r) => !executable(r.path)).map((r) => r.pkg),
    root: process.getuid?.() === 0,
    apt: onPath('apt-get'),
  };
}

function main() {
  const simulated = process.env.COSER_TEST_PREREQUISITES_SIMULATE;
  const probe = simulated ? JSON.parse(simulated) : probeMachine();
  const plan = planPrerequisites(probe);
  if (plan.action === 'none') return 0;
  if (plan.action === 'stop') {
    process.stderr.write(`${plan.message}\n`);
    return 1;
  }
  const why = REQUIREMENTS.filter((r) => plan.packages.includes(r.pkg)).map((r) => `${r.pkg} for ${r.usedBy}`);
  process.stdout.write(`npm test: installing ${why.join(', ')} (apt-get)\n`);
  for (const command of plan.commands) {
    if (simulated) {
      process.stdout.write(`would run: ${command.join(' ')}\n`);
      continue;
    }
    const ran = spawnSync(command[0], command.slice(1), {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (ran.status !== 0) {
      process.stderr.write(
        `npm test: \`${command.join(' ')}\` failed (exit ${ran.status ?? ran.signal}); install ${plan.packages.join(' ')} and run npm test again\n`,
      );
      return 1;
    }
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
