/**
 * `npm run bench:global`: the global models (CNN-QR, DeepAR+) through `npm start`'s pipeline (parse,
 * the local state machine, the built-in engine with its defaults — HPO on, as the seed's messages
 * ask when no TrainingParameters are given) beside the per-series models, on the demo dataset.
 *
 *   demo    36 items (promotions, prices): ["CNNQR", "DEEPARP", "PROPHET"], then ["CNNQR"] alone
 *   panel   the demo generator at 200 items (promotions and prices): ETS, PROPHET, AUTOPREDICTOR,
 *           CNNQR, DEEPARP
 *
 *   node bin/run-ts.mjs bench/global.ts [--only demo,panel] [--items 200]
 *
 * Reported per run: wall and CPU seconds of the pipeline process (its worker threads included), and
 * per model the backtest and realised (actuals after the cut-off) wQL and MASE from the run summary,
 * and the time its predictor and forecast jobs took (jobs run one at a time: each job's span of
 * progress lines — approximate to a status check; it misses the job's last status check). The machine is shared: wall times are
 * noisy, CPU seconds less so. Results also go to bench/results/global-<timestamp>.json (not committed).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface ModelRow {
  readonly model: string;
  readonly backtestWql?: number;
  readonly backtestMase?: number;
  readonly realisedWql?: number;
  readonly realisedMase?: number;
  /** Seconds of its predictor job plus its forecast job (each from its first to its last progress line). */
  readonly jobSeconds?: number;
}

interface RunResult {
  readonly name: string;
  readonly items: number;
  readonly models: readonly string[];
  readonly exitCode: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly rows: ModelRow[];
}

const MESSAGE = {
  DataName: 'retail_demo',
  ForecastHorizon: 28,
  NumberOfBacktestWindows: 1,
  PerformDelete: true,
  dateCreate: '20250201',
  ForecastFrequency: 'D',
  ForecastTypes: ['0.05', '0.20', '0.50', '0.80', '0.95'],
};

/** One pipeline run in a fresh folder; CPU time (user + system, worker threads included) from /usr/bin/time. */
async function runPipeline(name: string, items: number, models: readonly string[]): Promise<RunResult> {
  const root = await mkdtemp(join(tmpdir(), 'bench-global-'));
  const messageFile = join(root, 'message.json');
  await writeFile(messageFile, JSON.stringify({ param: { ...MESSAGE, Models: models } }));
  const started = performance.now();
  const child = spawn(
    '/usr/bin/time',
    ['-f', 'BENCH_CPU %U %S', process.execPath, resolve('bin/forecast-pipeline.mjs'), 'run', '--message', messageFile, '--items', String(items), '--root', root, '--skip-report', '--plain'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exitCode: number = await new Promise((done) => child.on('close', (code) => done(code ?? 1)));
  const wallSeconds = (performance.now() - started) / 1000;
  await rm(root, { recursive: true, force: true });
  const cpu = /BENCH_CPU ([\d.]+) ([\d.]+)/.exec(out);
  const result = { name, items, models, exitCode, wallSeconds, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, rows: parseSummary(out, models) };
  if (exitCode !== 0) console.log(out.split('\n').slice(-30).join('\n'));
  return result;
}

/** Per model: metrics from the summary table, job span from the progress lines. */
function parseSummary(out: string, models: readonly string[]): ModelRow[] {
  const lines = out.split('\n');
  // local/summary.ts formatSummaryTable: `model  items  rows  bt wQL  …  val wQL  …`, best marked `*`.
  const header = lines.findIndex((l) => /^model\s/.test(l) && l.includes('bt wQL'));
  const columns = header >= 0 ? lines[header]!.trim().split(/\s{2,}/) : [];
  return models.map((model) => {
    const row = header >= 0 ? lines.slice(header + 2).find((l) => l.trim().split(/\s+/)[0] === model) : undefined;
    const cells = row ? row.trim().split(/\s{2,}/) : [];
    const value = (column: string) => {
      const v = Number(cells[columns.indexOf(column)]?.replace('*', ''));
      return Number.isFinite(v) ? v : undefined;
    };
    // Jobs run one at a time: each job's span is its first to its last progress line; a model's
    // time is its predictor job plus its forecast job.
    const spans = new Map<string, number[]>();
    for (const l of lines) {
      const m = /^\[\s*([\d.]+) s\]\s+(\S+): (?:forecasting )?\d+\/\d+ items/.exec(l);
      if (!m || !m[2]!.includes(`_${model}_`)) continue;
      spans.set(m[2]!, [...(spans.get(m[2]!) ?? []), Number(m[1])]);
    }
    const jobSeconds = spans.size ? [...spans.values()].reduce((sum, t) => sum + Math.max(...t) - Math.min(...t), 0) : undefined;
    return {
      model,
      backtestWql: value('bt wQL'),
      backtestMase: value('bt mase'),
      realisedWql: value('val wQL'),
      realisedMase: value('val mase'),
      jobSeconds,
    };
  });
}

function report(run: RunResult): void {
  const f = (v: number | undefined, digits = 3) => (v === undefined ? '–' : v.toFixed(digits));
  console.log(`\n${run.name}: ${run.items} items, Models ${JSON.stringify(run.models)}; exit ${run.exitCode}; wall ${run.wallSeconds.toFixed(0)} s, CPU ${run.cpuSeconds.toFixed(0)} s`);
  console.log('| model | backtest wQL | backtest MASE | realised wQL | realised MASE | job span s | s per 1,000 series |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of run.rows) {
    const per1000 = r.jobSeconds === undefined ? undefined : (r.jobSeconds * 1000) / run.items;
    console.log(`| ${r.model} | ${f(r.backtestWql)} | ${f(r.backtestMase)} | ${f(r.realisedWql)} | ${f(r.realisedMase)} | ${f(r.jobSeconds, 0)} | ${f(per1000, 0)} |`);
  }
}

const { values } = parseArgs({ options: { only: { type: 'string' }, items: { type: 'string', default: '200' } } });
const only = values.only?.split(',');
const runs: [string, number, string[]][] = [];
if (!only || only.includes('demo')) {
  runs.push(['demo', 36, ['CNNQR', 'DEEPARP', 'PROPHET']], ['demo, CNN-QR alone', 36, ['CNNQR']]);
}
if (!only || only.includes('panel')) runs.push(['panel', Number(values.items), ['ETS', 'PROPHET', 'AUTOPREDICTOR', 'CNNQR', 'DEEPARP']]);

console.log(`bench:global on ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}); shared machine: wall times are noisy`);
const results: RunResult[] = [];
for (const [name, items, models] of runs) {
  const result = await runPipeline(name, items, models);
  report(result);
  results.push(result);
}
await mkdir('bench/results', { recursive: true });
const file = `bench/results/global-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\nwritten ${file}`);
