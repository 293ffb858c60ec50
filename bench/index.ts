/**
 * `npm run bench`: the project's benchmarks, one after another, each in its own process so that
 * one's memory does not colour the next's. Numbers, not assertions: timed tests flake on shared
 * machines, so targets are checked here and reported.
 *
 *   data      bench/data-path.ts  1M target rows DuckDB → clean → CSV, beside DuckDB COPY (issue 3)
 *   pipeline  bench/pipeline.ts   `npm start`'s pipeline on the demo at 1×, 10×, 100× items (issue 5)
 *   accuracy  bench/accuracy.ts   the product path on M4 weekly/hourly and synthetic panels, beside R (issue 11)
 *
 *   npm run bench [-- --only data,accuracy] [-- --quick]
 * `--quick` shrinks each benchmark (pipeline 1× and 10× only; accuracy on the first 60 series of each set).
 * On shared machines run one benchmark process at a time: `flock /tmp/bench.lock npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Bench {
  readonly name: string;
  readonly file: string;
  /** Each run of the file: the arguments it gets. */
  readonly runs: (quick: boolean) => string[][];
}

const BENCHES: readonly Bench[] = [
  { name: 'data', file: 'bench/data-path.ts', runs: () => [[]] },
  {
    name: 'pipeline',
    file: 'bench/pipeline.ts',
    runs: (quick) => [['--sizes', quick ? '1,10' : '1,10,100']],
  },
  {
    name: 'accuracy',
    file: 'bench/accuracy.ts',
    runs: (quick) => [quick ? ['--limit', '60'] : []],
  },
];

const { values } = parseArgs({
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const wanted = values.only?.split(',').map((s) => s.trim()) ?? BENCHES.map((b) => b.name);
const unknown = wanted.filter((name) => !BENCHES.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}; choose from ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

let failed = false;
for (const bench of BENCHES.filter((b) => wanted.includes(b.name))) {
  for (const args of bench.runs(values.quick)) {
    console.log(`\n== ${bench.name}: ${bench.file} ${args.join(' ')} ==`);
    const result = spawnSync(process.execPath, [resolve('bin/run-ts.mjs'), resolve(bench.file), ...args], {
      stdio: 'inherit',
    });
    if (result.status !== 0) {
      console.error(`${bench.name} exited with ${result.status ?? result.signal}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
