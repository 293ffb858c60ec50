/**
 * `forecast-pipeline`: the command line (bin/forecast-pipeline.mjs loads `main`).
 *   run        the whole pipeline locally (default: the bundled demo)
 *   forecast   a one-off forecast of a CSV with the built-in engine
 *   report     (re)writes the HTML report of a finished run
 *   resources  what the built-in engine holds (type, name, status)
 * Exit codes: 0 done, 1 the work failed, 2 the command line was wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { duckDbMemoryLimit, resolveRoot, localPaths, reportPath } from './config';

/** Where the commands write; tests pass their own. */
export interface CliIo {
  readonly out: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly err: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const ROOT_HELP = `  --root <dir>        local folder (default .forecast-local, or FORECAST_LOCAL_ROOT)`;

const HELP: Record<string, string> = {
  main: `forecast-pipeline — demand forecasting pipeline (Amazon Forecast or the built-in engine)

Usage: forecast-pipeline <command> [options]

Commands:
  run         run the whole pipeline locally: DuckDB warehouse, folder bucket, built-in engine
  forecast    one-off forecast of a CSV file with the built-in engine
  report      (re)write the HTML report of a finished run
  resources   list what the built-in engine holds (type, name, status)
  enqueue     send a parameter message to the deployed SQS FIFO queue (AWS)

Every command takes --help. \`npm start\` is \`forecast-pipeline run\` on the bundled demo.
`,
  run: `Usage: forecast-pipeline run [--message <file|json>] [--items N] [--root <dir>] [options]

Runs the pipeline on embedded defaults: the message goes through the parse Lambda's handler as an
SQS event, and the state machine (statemachine/forecast.asl.json) runs locally with the same step
handlers the SAM functions deploy. Results land in the DuckDB file; a report is written.

Options:
  --message <m>       message file or JSON text ({"param": {...}}); default examples/demo-message.json
  --items <N>         generate the demo dataset with N items (default 36 for the demo; with --message,
                      seeds demo data under the message's DataName when it has none)
${ROOT_HELP}
  --force             run a new attempt of the run even when the last one SUCCEEDED with this message
  --skip-report       do not write the HTML report
  --plain             plain progress lines even on a terminal
  --workers <N>       engine worker threads (default: one per core)
  -h, --help          this help

Runs are attempts, as on AWS: the same message never runs a delivered (SUCCEEDED) run twice — a
second run says what happened and shows the existing results; a FAILED or PARTIAL run, or a
corrected message, runs as a new attempt with its own execution, files and Forecast resources.
Environment: FORECAST_LOCAL_ROOT, FORECAST_FAULTS (fault injection), FORECAST_LOCAL_TIME_SCALE
(retry waits = ASL waits ÷ this, default 60), table and query variables (docs/local.md).
`,
  forecast: `Usage: forecast-pipeline forecast --input <csv> --frequency <F> --horizon <H> --algorithm <A> --output <csv>

One-off forecast with the built-in engine. Input CSV header: item_id,timestamp,target_value
(rows in any order; dates or date-times). Output: Forecast's export CSV for the H periods after
each item's last timestamp.

Options:
  --input <csv>             input file
  --frequency <F>           Forecast frequency: 1min 5min 10min 15min 30min H D W M Y (…)
  --horizon <H>             periods to forecast (1–500)
  --algorithm <A>           ETS | ARIMA | NPTS | PROPHET | AUTO | THETA | SEASONAL_NAIVE
                            | CNNQR | DEEPARP (global: one network trained on all the items,
                            default TrainingParameters, no HPO; slower: see docs/models.md)
  --forecast-types <list>   e.g. 0.1,0.5,0.9,mean (default 0.1,0.5,0.9)
  --output <csv>            output file
  --workers <N>             worker threads (default: one per core)
  -h, --help                this help
`,
  report: `Usage: forecast-pipeline report [--run <id>] [--root <dir>] [--output <file>]

(Re)writes the self-contained HTML report of a finished run from the warehouse: model comparison,
fan charts per item (history, validation actuals, median and quantile bands).

Options:
  --run <id>          run id (execution name, e.g. retail_demo_2025_02_01); default: the latest run
${ROOT_HELP}
  --output <file>     where to write (default <root>/reports/<run>.html)
  --max-items <N>     items in the report, largest first (default 200)
  --history <N>       history periods shown before the cut-off (default 120)
  -h, --help          this help
`,
  resources: `Usage: forecast-pipeline resources [--root <dir>] [--json]

Lists what the built-in engine holds in the local folder — type, name, status — as the Forecast
console's lists do. After a run with PerformDelete, nothing should be left.

Options:
${ROOT_HELP}
  --json              one JSON document instead of a table
  -h, --help          this help
`,
};

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP_OPTION: Options = { help: { type: 'boolean', short: 'h' } };

function parse(command: string, argv: string[], options: Options) {
  try {
    return parseArgs({ args: argv, options: { ...HELP_OPTION, ...options }, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

function positiveInteger(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(number) || number < 1) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

function required(values: Record<string, string | boolean | undefined>, flag: string, command: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value === '') throw new UsageError(`${command}: --${flag} is required`);
  return value;
}

/** Keeps the step handlers' Lambda logs and EMF metrics out of the progress display (FORECAST_LOCAL_LOG_LEVEL shows them). */
function quietLambdaLogs(env: NodeJS.ProcessEnv): void {
  env.POWERTOOLS_LOG_LEVEL = env.FORECAST_LOCAL_LOG_LEVEL ?? 'SILENT';
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  env.AWS_EC2_METADATA_DISABLED ??= 'true';
  env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
  env.AWS_REGION ??= 'us-east-1';
}

async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parse('run', argv, {
    message: { type: 'string' },
    items: { type: 'string' },
    root: { type: 'string' },
    force: { type: 'boolean' },
    'skip-report': { type: 'boolean' },
    plain: { type: 'boolean' },
    workers: { type: 'string' },
  });
  if (values.help) return help('run', io);
  const { runPipeline, readMessage } = await import('./runner');
  const { DEFAULT_RETRY_WAITS } = await import('./workflow');
  const scale = Number(io.env.FORECAST_LOCAL_TIME_SCALE ?? DEFAULT_RETRY_WAITS.timeScale);
  if (!(scale > 0)) throw new UsageError(`FORECAST_LOCAL_TIME_SCALE must be a positive number, got ${io.env.FORECAST_LOCAL_TIME_SCALE}`);
  let message: unknown;
  if (typeof values.message === 'string') {
    try {
      message = await readMessage(values.message);
    } catch (error) {
      throw new UsageError(`run: --message: ${(error as Error).message}`);
    }
  }
  const items = positiveInteger(values.items, '--items');
  const workers = positiveInteger(values.workers, '--workers');
  const result = await runPipeline({
    root: resolveRoot(values.root as string | undefined, io.env),
    ...(message !== undefined ? { message } : {}),
    ...(items !== undefined ? { items } : {}),
    ...(workers !== undefined ? { workers } : {}),
    force: values.force === true,
    report: values['skip-report'] !== true,
    plain: values.plain === true,
    out: io.out,
    env: io.env,
    retryWaits: { ...DEFAULT_RETRY_WAITS, timeScale: scale },
  });
  return result.exitCode;
}

async function forecastCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parse('forecast', argv, {
    input: { type: 'string' },
    frequency: { type: 'string' },
    horizon: { type: 'string' },
    algorithm: { type: 'string' },
    'forecast-types': { type: 'string' },
    output: { type: 'string' },
    workers: { type: 'string' },
  });
  if (values.help) return help('forecast', io);
  const input = required(values, 'input', 'forecast');
  const frequency = required(values, 'frequency', 'forecast');
  const horizon = positiveInteger(required(values, 'horizon', 'forecast'), '--horizon')!;
  const algorithm = required(values, 'algorithm', 'forecast').toUpperCase();
  const output = required(values, 'output', 'forecast');
  const workers = positiveInteger(values.workers, '--workers');
  const { forecastCsv, ONE_OFF_ALGORITHMS } = await import('../engine/oneoff');
  if (!(ONE_OFF_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new UsageError(`forecast: --algorithm must be one of ${ONE_OFF_ALGORITHMS.join(', ')}, got ${JSON.stringify(values.algorithm)}`);
  }
  if (!existsSync(input)) throw new UsageError(`forecast: --input ${input} does not exist`);
  const types = typeof values['forecast-types'] === 'string' ? values['forecast-types'].split(',').map((t) => t.trim()).filter(Boolean) : undefined;
  let last = 0;
  const summary = await forecastCsv({
    inputPath: input,
    frequency,
    horizon,
    algorithm: algorithm as (typeof ONE_OFF_ALGORITHMS)[number],
    outputPath: output,
    ...(types ? { forecastTypes: types } : {}),
    ...(workers !== undefined ? { workers } : {}),
    onProgress: (done, total) => {
      const now = Date.now();
      if (io.out.isTTY && (now - last > 100 || done === total)) {
        last = now;
        io.out.write(`\r\x1b[2K  ${done}/${total} series`);
        if (done === total) io.out.write('\n');
      }
    },
  });
  const algorithms = Object.entries((summary as { algorithms?: Record<string, number> }).algorithms ?? {}).map(([name, count]) => `${name} ${count}`).join(', ');
  io.out.write(
    `forecast: ${summary.items} items, ${summary.rows} rows → ${output} in ${summary.seconds.toFixed(2)} s` +
      (algorithms ? ` (${algorithms})` : '') +
      (summary.fallbacks ? `; ${summary.fallbacks} series fell back to a simpler model` : '') +
      '\n',
  );
  return 0;
}

async function reportCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parse('report', argv, {
    run: { type: 'string' },
    root: { type: 'string' },
    output: { type: 'string' },
    'max-items': { type: 'string' },
    history: { type: 'string' },
  });
  if (values.help) return help('report', io);
  const paths = localPaths(resolveRoot(values.root as string | undefined, io.env));
  if (!existsSync(paths.duckdb)) {
    io.err.write(`report: no warehouse at ${paths.duckdb} — run \`forecast-pipeline run\` first\n`);
    return 1;
  }
  const maxItems = positiveInteger(values['max-items'], '--max-items');
  const historyPoints = positiveInteger(values.history, '--history');
  const { openDuckDbWarehouse } = await import('../shared/adapters/duckdb-warehouse');
  const { writeRunReport } = await import('./report');
  const { latestRunId } = await import('./summary');
  const warehouse = await openDuckDbWarehouse({ path: paths.duckdb, memoryLimit: duckDbMemoryLimit() });
  try {
    const runId = (values.run as string | undefined) ?? (await latestRunId(warehouse));
    if (!runId) {
      io.err.write(`report: the warehouse ${paths.duckdb} has no finished run yet\n`);
      return 1;
    }
    const file = (values.output as string | undefined) ?? reportPath(paths, runId);
    const data = await writeRunReport(warehouse, runId, file, {
      ...(maxItems ? { maxItems } : {}),
      ...(historyPoints ? { historyPoints } : {}),
    });
    io.out.write(`report of run ${runId} (${data.run.status}; ${data.models.length} models, ${data.items.length} items) → ${file}\n`);
    return 0;
  } catch (error) {
    io.err.write(`report: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await warehouse.close();
  }
}

async function resourcesCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parse('resources', argv, { root: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return help('resources', io);
  const paths = localPaths(resolveRoot(values.root as string | undefined, io.env));
  const { FolderObjectStore } = await import('../shared/adapters/folder-store');
  const { createBuiltinForecast } = await import('../engine/client');
  const { listResources } = await import('../engine/resources');
  const forecast = createBuiltinForecast({ store: new FolderObjectStore(paths.storeRoot), stateUri: paths.engineStateUri });
  try {
    const resources = await listResources(forecast);
    if (values.json) {
      io.out.write(`${JSON.stringify(resources, null, 2)}\n`);
      return 0;
    }
    if (resources.length === 0) {
      io.out.write(`The built-in engine holds no resources (${paths.root}).\n`);
      return 0;
    }
    const rows = resources.map((r) => [r.type, r.name, r.status, r.message ?? '']);
    const header = ['TYPE', 'NAME', 'STATUS', 'MESSAGE'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) io.out.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    io.out.write(`${resources.length} resource${resources.length === 1 ? '' : 's'}\n`);
    return 0;
  } finally {
    await forecast.close();
  }
}

function help(command: string, io: CliIo): number {
  io.out.write(HELP[command]!);
  return 0;
}

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  forecast: forecastCommand,
  report: reportCommand,
  resources: resourcesCommand,
  // Loaded on use: only this command needs the SQS client.
  enqueue: async (argv, io) => {
    const { enqueueCommand } = await import('../shared/adapters/sqs-queue');
    return enqueueCommand(argv, { out: (line) => io.out.write(`${line}\n`), err: (line) => io.err.write(`${line}\n`) });
  },
};

/** Runs one command line; returns the process exit code. */
export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr, env: process.env }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' && rest[0] && HELP[rest[0]] ? rest[0] : 'main';
    io.out.write(HELP[topic]!);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err.write(`forecast-pipeline: unknown command "${command}"\n\n${HELP.main}`);
    return 2;
  }
  quietLambdaLogs(io.env);
  try {
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`${error.message}\n\n${HELP[command]}`);
      return 2;
    }
    const e = error as Error;
    io.err.write(`forecast-pipeline ${command} failed: ${e.name}: ${e.message}\n`);
    if (io.env.FORECAST_LOCAL_DEBUG) io.err.write(`${e.stack}\n`);
    return 1;
  }
}
