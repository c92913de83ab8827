/**
 * `npm run bench`: every benchmark in turn, each in its own process; `npm run bench -- --quick`
 * runs the short versions (under a minute on the project's 2-core machine). `bench:ingest` is left
 * out: `bench:peers` measures the same library ingest on the same month.
 */
import { spawnSync } from 'node:child_process';

const quick = process.argv.includes('--quick') ? ['--quick'] : [];
const runs: Array<[string, string[]]> = [
  ['peers.ts', []],
  ['http.ts', []],
  ['members-csv.ts', ['--expose-gc']],
  ['instances.ts', []],
];
for (const [script, node] of runs) {
  console.log(`\n## ${script}${quick.length ? ' (quick)' : ''}`);
  const run = spawnSync(process.execPath, [...node, '--import', 'tsx', `bench/${script}`, ...quick], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
