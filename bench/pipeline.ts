/**
 * `npm run bench:pipeline`: wall time and peak memory of `npm start`'s pipeline (the demo message
 * through parse, the local state machine, the built-in engine, notify and the report) on the demo
 * dataset, and how they grow with 10× and 100× the items. Each size runs in a fresh process and a
 * fresh local folder; seeding the warehouse is timed apart from the pipeline.
 *
 *   node bin/run-ts.mjs bench/pipeline.ts [--sizes 1,10,100] [--message <file>] [--timeout-min 60]
 *
 * Run one benchmark at a time on shared machines: `flock /tmp/bench.lock npm run bench:pipeline`.
 * Results are also written to bench/results/pipeline-<timestamp>.json (not committed).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface SizeResult {
  readonly items: number;
  readonly status: string;
  readonly exitCode: number;
  readonly seedSeconds: number;
  readonly seededRows: number;
  readonly pipelineSeconds: number;
  readonly forecastRows: number;
  readonly peakRssMb: number;
  /** Peak RSS sampled while each state ran (MB): where the memory goes. */
  readonly peakRssByState: Record<string, number>;
  /** Peak JS memory of the main thread (V8 heap + external, MB) by state: RSS minus this is DuckDB, workers and the runtime. */
  readonly peakJsByState: Record<string, number>;
  readonly models: string[];
}

const MARK = 'BENCH_RESULT ';

async function child(items: number, root: string, messageFile: string | undefined): Promise<void> {
  const { openDuckDbWarehouse } = await import('../shared/adapters/duckdb-warehouse');
  const { seedDemoDataset } = await import('../local/seed');
  const { dateFromCompact } = await import('../local/demo-data');
  const { demoMessage, readMessage, runPipeline } = await import('../local/runner');
  const { duckDbMemoryLimit, localPaths } = await import('../local/config');
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const message = (messageFile ? await readMessage(messageFile) : await demoMessage(items)) as { param: Record<string, unknown> };
  if (messageFile) message.param.DataName = `${String(message.param.DataName)}_${items}`;
  const param = message.param;

  const seedStart = performance.now();
  const warehouse = await openDuckDbWarehouse({ path: localPaths(root).duckdb, memoryLimit: duckDbMemoryLimit() });
  const seeded = await seedDemoDataset(warehouse, String(param.DataName), {
    items,
    forecastStart: dateFromCompact(String(param.dateCreate)),
    horizon: Number(param.ForecastHorizon),
  });
  await warehouse.close();
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const log: string[] = [];
  // RSS sampled every 100 ms, attributed to the state running (from the plain progress lines).
  let current = 'parse';
  const peakRssByState: Record<string, number> = {};
  const peakJsByState: Record<string, number> = {};
  const sample = () => {
    const usage = process.memoryUsage();
    peakRssByState[current] = Math.max(peakRssByState[current] ?? 0, Math.round(usage.rss / 2 ** 20));
    peakJsByState[current] = Math.max(peakJsByState[current] ?? 0, Math.round((usage.heapTotal + usage.external) / 2 ** 20));
  };
  const sampler = setInterval(sample, 100);
  const pipelineStart = performance.now();
  const result = await runPipeline({
    root,
    message,
    out: {
      write: (text: string) => {
        log.push(text);
        sample();
        const entered = /▶ (\S+)/.exec(text);
        if (entered) current = entered[1]!;
        else if (/^Run /m.test(text)) current = 'summary+report';
        return true;
      },
    },
    plain: true,
  });
  clearInterval(sampler);
  sample();
  const pipelineSeconds = (performance.now() - pipelineStart) / 1000;
  await writeFile(join(root, 'run.log'), log.join(''));
  const outcome: SizeResult = {
    items,
    status: result.execution?.status ?? 'NOT_STARTED',
    exitCode: result.exitCode,
    seedSeconds,
    seededRows: seeded.targetRows + seeded.relatedRows,
    pipelineSeconds,
    forecastRows: result.summary?.forecastRows ?? 0,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakRssByState,
    peakJsByState,
    models: (param.Models as string[] | undefined) ?? [],
  };
  process.stdout.write(`${MARK}${JSON.stringify(outcome)}\n`);
}

function runChild(items: number, root: string, messageFile: string | undefined, timeoutMs: number): Promise<SizeResult | { items: number; status: string }> {
  return new Promise((resolveResult) => {
    const args = [resolve('bin/run-ts.mjs'), resolve('bench/pipeline.ts'), '--child', '--items', String(items), '--root', root];
    if (messageFile) args.push('--message', resolve(messageFile));
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => proc.kill('SIGTERM'), timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      const line = output.split('\n').find((l) => l.startsWith(MARK));
      resolveResult(line ? (JSON.parse(line.slice(MARK.length)) as SizeResult) : { items, status: code === null ? 'TIMED OUT' : `CRASHED (exit ${code})` });
    });
  });
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { sizes: { type: 'string', default: '1,10,100' }, message: { type: 'string' }, 'timeout-min': { type: 'string', default: '60' }, keep: { type: 'boolean' } },
  });
  const { DEMO_DEFAULT_ITEMS } = await import('../local/demo-data');
  const factors = String(values.sizes).split(',').map(Number).filter((n) => n > 0);
  const timeoutMs = Number(values['timeout-min']) * 60_000;
  console.log(`pipeline bench: ${cpus().length} CPUs (${availableParallelism()} usable), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);
  console.log(`message: ${values.message ?? 'examples/demo-message.json'}; sizes: ${factors.map((f) => `${f}× = ${f * DEMO_DEFAULT_ITEMS} items`).join(', ')}\n`);
  const results: (SizeResult | { items: number; status: string })[] = [];
  for (const factor of factors) {
    const items = factor * DEMO_DEFAULT_ITEMS;
    const root = await mkdtemp(join(tmpdir(), `bench-pipeline-${items}-`));
    process.stdout.write(`  ${items} items … `);
    const result = await runChild(items, root, values.message, timeoutMs);
    results.push(result);
    console.log('pipelineSeconds' in result ? `${result.status} in ${result.pipelineSeconds.toFixed(1)} s` : result.status);
    if ('pipelineSeconds' in result && result.exitCode !== 0) console.log((await readFile(join(root, 'run.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n'));
    if (!values.keep) await rm(root, { recursive: true, force: true });
    else console.log(`    kept ${root}`);
  }
  const base = results.find((r): r is SizeResult => 'pipelineSeconds' in r);
  console.log('\n items  status      seed s  pipeline s  s/100 items  × time  × items  peak RSS MB  forecast rows');
  for (const r of results) {
    if (!('pipelineSeconds' in r)) {
      console.log(`${String(r.items).padStart(6)}  ${r.status}`);
      continue;
    }
    const timeRatio = base ? r.pipelineSeconds / base.pipelineSeconds : NaN;
    const itemRatio = base ? r.items / base.items : NaN;
    console.log(
      `${String(r.items).padStart(6)}  ${r.status.padEnd(10)} ${r.seedSeconds.toFixed(1).padStart(7)} ${r.pipelineSeconds.toFixed(1).padStart(11)} ${((100 * r.pipelineSeconds) / r.items).toFixed(2).padStart(12)} ${timeRatio.toFixed(1).padStart(7)} ${itemRatio.toFixed(0).padStart(8)} ${r.peakRssMb.toFixed(0).padStart(12)} ${String(r.forecastRows).padStart(14)}`,
    );
  }
  for (const r of results) {
    if ('peakRssByState' in r) {
      const byState = (peaks: Record<string, number>) => Object.entries(peaks).map(([state, mb]) => `${state} ${mb}`).join(', ');
      console.log(`  peak RSS by state at ${r.items} items (MB): ${byState(r.peakRssByState)}`);
      console.log(`    of which main-thread JS (heap + external): ${byState(r.peakJsByState)}`);
    }
  }
  const demo = results.find((r): r is SizeResult => 'pipelineSeconds' in r && r.items === DEMO_DEFAULT_ITEMS);
  if (demo) console.log(`\ndemo (${demo.models.join(', ')}): ${demo.pipelineSeconds.toFixed(1)} s — goal < 60 s on 2 cores: ${demo.pipelineSeconds < 60 ? 'met' : 'NOT met'}`);
  await mkdir('bench/results', { recursive: true });
  const file = join('bench/results', `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ machine: { cpus: cpus().length, node: process.version }, results }, null, 2)}\n`);
  console.log(`results: ${file}`);
}

const argv = process.argv.slice(2);
if (argv.includes('--child')) {
  const { values } = parseArgs({ args: argv, options: { child: { type: 'boolean' }, items: { type: 'string' }, root: { type: 'string' }, message: { type: 'string' } } });
  await child(Number(values.items), String(values.root), values.message);
  process.exit(0);
} else {
  await parent();
}
