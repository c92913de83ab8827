/**
 * `npm run bench`: every benchmark in turn, each in its own process; `npm run bench -- --quick`
 * runs the short versions (under a minute on the project's 2-core machine). `bench:ingest` is left
 * out: `bench:peers` measures the same library ingest on the same month.
 *
 * The scripts run compiled (`npm run bench:build`), as the library and server run for users:
 * under tsx the same code runs slower.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const quick = process.argv.includes('--quick') ? ['--quick'] : [];
const runs: Array<[string, string[]]> = [
  ['peers.js', []],
  ['shapes.js', []],
  ['http.js', []],
  ['members-csv.js', ['--expose-gc']],
  ['instances.js', []],
];
for (const [script, node] of runs) {
  console.log(`\n## ${script}${quick.length ? ' (quick)' : ''}`);
  const run = spawnSync(process.execPath, [...node, join(import.meta.dirname, script), ...quick], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
