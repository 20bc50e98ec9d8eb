// Types of prerequisites.mjs (plain JavaScript: npm test's pretest runs it before anything else).

export const REQUIREMENTS: readonly { pkg: string; path: string; usedBy: string }[];

export function planPrerequisites(probe: {
  missing: string[];
  root: boolean;
  apt: boolean;
}):
  | { action: 'none' }
  | { action: 'install'; packages: string[]; commands: string[][] }
  | { action: 'stop'; message: string };

export function probeMachine(): { missing: string[]; root: boolean; apt: boolean };
