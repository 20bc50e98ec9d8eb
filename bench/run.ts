// `npm run bench -- NAME [ARGS...]` runs bench/NAME.ts (with NAME's ARGS in process.argv after it).
// Benches print their own figures; each measures its baseline in the same run so ratios are meaningful.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -3))
  .sort();
const name = process.argv[2];

if (!name || !available.includes(name)) {
  console.error(name ? `no bench named "${name}"` : 'usage: npm run bench -- NAME');
  console.error(`benches: ${available.join(', ')}`);
  process.exit(2);
}
// Benches read their own arguments from process.argv.slice(2), as if started directly.
process.argv.splice(2, 1);
await import(pathToFileURL(path.join(here, `${name}.ts`)).href);
