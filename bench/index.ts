/**
 * `npm run bench`: runs the project's benchmarks one after another, each in its own process
 * (run under `flock /tmp/bench.lock` on shared machines). Arguments go to every benchmark.
 *
 *   data  bench/data-path.ts  DuckDB → clean → CSV vs DuckDB COPY (issue 3)
 *   m4    bench/m4.ts         built-in models on M4 samples (long; only with `--m4`)
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const benches = [{ name: 'data', file: 'bench/data-path.ts' }];
if (args.includes('--m4')) benches.push({ name: 'm4', file: 'bench/m4.ts' });
const passOn = args.filter((a) => a !== '--m4');

let failed = false;
for (const bench of benches) {
  console.log(`\n== ${bench.name} (${bench.file}) ==`);
  const result = spawnSync(process.execPath, [resolve('bin/run-ts.mjs'), resolve(bench.file), ...(bench.name === 'data' ? passOn : [])], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
