/**
 * `npm run build` output, as SAM deploys it: each function bundle is loaded with the built
 * layer on the module path (a folder laid out like /opt/nodejs/node_modules), in a separate
 * Node process that sees nothing of the project's node_modules, and invoked against a fake
 * Amazon Forecast endpoint on 127.0.0.1 (the bundled SDK client, its error classes and our
 * error names all go through the minified bundles).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAll, layerEntry, listSteps, LAYER_PACKAGE, ROOT, sharedImports } from '../../scripts/build.mjs';
import { pipelineState, stateWithResults } from '../unit/steps-fixture';
import { deserialize, serialize } from 'node:v8';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { runFitTask } from '../../engine/forecast-series';
import type { FitTask, SeriesForecast } from '../../engine/worker-protocol';

const run = promisify(execFile);
let outdir: string;
let sizes: Awaited<ReturnType<typeof buildAll>>;
let buildMs: number;
const layerModules = () => join(outdir, 'layer', 'nodejs', 'node_modules');

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'forecast-build-'));
  const started = Date.now();
  sizes = await buildAll(outdir, { vendor: true });
  buildMs = Date.now() - started;
}, 180_000);
afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

/** Module names a CommonJS bundle requires at run time. */
async function requiredModules(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();
}

describe('Build: function bundles', () => {
  it('builds one small CommonJS bundle per step that takes shared code from the layer only', async () => {
    const steps = await listSteps();
    expect(steps).toHaveLength(14); // 11 pipeline steps + the engine-job state machine's plan, shard, finish
    expect(Object.keys(sizes.functions).sort()).toEqual(steps);
    for (const step of steps) {
      const file = join(outdir, 'functions', step, 'index.js');
      expect(sizes.functions[step], step).toBeLessThan(16 * 1024);
      expect(await requiredModules(file), step).toEqual([LAYER_PACKAGE]);
      expect(await readFile(file, 'utf8'), step).toMatch(/module\.exports/);
    }
    console.info(`build: ${buildMs} ms; functions ${Object.values(sizes.functions).join('/')} B; layer bundle ${(sizes.layerBundle / 1024).toFixed(0)} KiB; layer ${(sizes.layerTotal / 1048576).toFixed(1)} MiB`);
  });
});

describe('Build: layer', () => {
  it('holds forecast-shared as one module with a package.json, and no DuckDB', async () => {
    const pkg = JSON.parse(await readFile(join(layerModules(), LAYER_PACKAGE, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: LAYER_PACKAGE, main: 'index.js' });
    const bundle = join(layerModules(), LAYER_PACKAGE, 'index.js');
    const required = await requiredModules(bundle);
    // Bundled, not required at run time (the CRT signer is an optional require the SDK guards).
    const bundled = (m: string) => m.startsWith('@aws-sdk/') || m === 'zod' || m.startsWith('@aws-lambda-powertools/');
    expect(required.filter((m) => bundled(m) && m !== '@aws-sdk/signature-v4-crt')).toEqual([]);
    // The Snowflake adapter loads the SDK lazily: an external import() resolved next to the layer package.
    expect(await readFile(bundle, 'utf8')).toContain('import("snowflake-sdk")');
    expect(existsSync(join(layerModules(), '@duckdb'))).toBe(false);
    expect(sizes.layerTotal).toBeLessThan(200 * 1048576);
  });

  it('carries snowflake-sdk with its dependencies: import() from the layer package finds it (no NODE_PATH)', async () => {
    const script = "const s = await import('snowflake-sdk'); process.stdout.write(typeof (s.default ?? s).createConnection)";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(layerModules(), LAYER_PACKAGE),
      env: { PATH: process.env.PATH, SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(stdout).toBe('function');
  });
});

describe('Build: built functions invoked with the built layer', () => {
  let server: Server;
  let endpoint: string;
  const requests: { target: string; body: any }[] = [];
  const replies: Record<string, (body: any) => { status?: number; body: unknown }> = {
    CreateDataset: (b) => ({ body: { DatasetArn: `arn:aws:forecast:us-east-1:123456789012:dataset/${b.DatasetName}` } }),
    DescribeDataset: () => ({ body: { Status: 'ACTIVE' } }),
    CreateDatasetGroup: () => ({ status: 400, body: { __type: 'ResourceAlreadyExistsException', message: 'A dataset group with this name exists' } }),
    ListDatasetGroups: () => ({ body: { DatasetGroups: [{ DatasetGroupName: 'demo_group', DatasetGroupArn: 'arn:aws:forecast:us-east-1:123456789012:dataset-group/demo_group' }] } }),
    DescribeDatasetGroup: (b) => ({ body: { Status: 'CREATE_IN_PROGRESS', DatasetGroupArn: b.DatasetGroupArn, DatasetArns: [] } }),
    ListPredictors: () => ({ body: { Predictors: [] } }),
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace('AmazonForecast.', '');
        const body = text ? JSON.parse(text) : {};
        requests.push({ target, body });
        const reply = replies[target]?.(body) ?? { status: 400, body: { __type: 'InvalidInputException', message: `unexpected ${target}` } };
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('loads every function and runs steps end to end through the bundled SDK client', async () => {
    // Prepare
    const groupState = stateWithResults();
    delete groupState.results.datasetGroup;
    await writeFile(join(outdir, 'states.json'), JSON.stringify({ fresh: pipelineState(), group: groupState }));
    await writeFile(
      join(outdir, 'invoke.cjs'),
      `
      const { readdirSync, readFileSync } = require('node:fs');
      const { join } = require('node:path');
      const states = JSON.parse(readFileSync(join(__dirname, 'states.json'), 'utf8'));
      const load = (step) => require(join(__dirname, 'functions', step, 'index.js')).handler;
      const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ error: { name: error.name, message: error.message, isError: error instanceof Error } }));
      (async () => {
        const handlers = Object.fromEntries(readdirSync(join(__dirname, 'functions')).map((s) => [s, typeof load(s)]));
        const result = {
          handlers,
          createDataset: await outcome(load('create-dataset')(states.fresh)),
          badInput: await outcome(load('create-dataset')({ run: {} })),
          groupPending: await outcome(load('create-dataset-group')(states.group)),
          deletePredictors: await outcome(load('delete-predictors')(states.fresh)),
          parseBadMessage: await outcome(load('parse')({ body: { param: { DataName: '1 bad' } } })),
          resolvedFrom: require.resolve('forecast-shared'),
        };
        process.stdout.write(JSON.stringify(result));
      })();
      `,
    );
    // Act
    const { stdout } = await run(process.execPath, [join(outdir, 'invoke.cjs')], {
      cwd: outdir,
      env: {
        PATH: process.env.PATH,
        NODE_PATH: layerModules(),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_FORECAST: endpoint,
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
        BUCKET: 'data-bucket',
        FORECAST_ROLE_ARN: 'arn:aws:iam::123456789012:role/forecast',
        SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sf',
        POWERTOOLS_LOG_LEVEL: 'CRITICAL',
      },
      timeout: 60_000,
    });
    const result = JSON.parse(stdout);
    // Assess
    expect(Object.values(result.handlers)).toEqual(Array(14).fill('function'));
    expect(result.resolvedFrom).toBe(join(layerModules(), LAYER_PACKAGE, 'index.js'));
    expect(result.createDataset.value.map((d: { arn: string }) => d.arn)).toEqual([
      'arn:aws:forecast:us-east-1:123456789012:dataset/demo_TARGET',
      'arn:aws:forecast:us-east-1:123456789012:dataset/demo_RELATED',
    ]);
    // Error names are the ASL contract: they survive bundling and minification.
    expect(result.badInput.error).toMatchObject({ name: 'InvalidInput', isError: true });
    expect(result.groupPending.error).toMatchObject({ name: 'ResourcePending', isError: true });
    expect(result.deletePredictors.value.deleted).toHaveLength(4);
    expect(result.parseBadMessage.error.name).toBe('InvalidInput');
    expect(requests.map((r) => r.target)).toEqual(
      expect.arrayContaining(['CreateDataset', 'DescribeDataset', 'CreateDatasetGroup', 'ListDatasetGroups', 'DescribeDatasetGroup', 'ListPredictors']),
    );
    const created = requests.filter((r) => r.target === 'CreateDataset').map((r) => r.body);
    expect(created).toContainEqual(expect.objectContaining({ DatasetName: 'demo_TARGET', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES' }));
  });
});

describe('Build: SAM makefile targets', () => {
  it('make build-<LogicalId> writes the same bundle as npm run build into ARTIFACTS_DIR', async () => {
    // Prepare
    const artifacts = join(outdir, 'sam-artifacts');
    // Act
    await run('make', ['--no-print-directory', 'build-CreatePredictorsFunction', `ARTIFACTS_DIR=${artifacts}`], { cwd: ROOT });
    // Assess
    expect(await readFile(join(artifacts, 'index.js'), 'utf8')).toBe(await readFile(join(outdir, 'functions', 'create-predictors', 'index.js'), 'utf8'));
  });
});

describe('Build: the layer entry', () => {
  it('re-exports exactly the names the handlers import from shared/, plus the wiring', async () => {
    const entry = layerEntry(await sharedImports(await listSteps()));
    expect(entry).toContain("export { getDependencies, setDependencies, dependenciesFromEnv } from './shared/runtime';");
    expect(entry).toContain("export { createPredictors } from './shared/steps/create-predictors';");
    expect(entry).toContain("export { startPipelineFromEvent } from './shared/parse';");
  });

  it('refuses two different exports with the same name (the layer is one flat module)', () => {
    const clash = new Map([
      [join(ROOT, 'shared', 'a'), new Set(['causeMessage'])],
      [join(ROOT, 'shared', 'b'), new Set(['causeMessage'])],
    ]);
    expect(() => layerEntry(clash)).toThrow(/causeMessage.*shared\/a.*shared\/b/);
  });
});

describe('Build: outputs', () => {
  it('writes no build output into the repository when run into a temporary folder', async () => {
    expect((await readdir(outdir)).sort()).toEqual(expect.arrayContaining(['functions', 'layer']));
  });
});

describe('Build: the engine-shard function with the built layer', () => {
  it('fits a shard (ETS and Prophet, the WASM optimiser from the layer) as the engine from source does', async () => {
    // Prepare: a shard as Plan writes it, in a folder store the built function opens (STORAGE=folder).
    const storeRoot = join(outdir, 'engine-store');
    const store = new FolderObjectStore(storeRoot);
    const daily = (level: number) => Float64Array.from({ length: 120 }, (_, d) => level + (d % 7) * 2 + ((d * 37) % 11) / 10);
    const series = [10, 25].map((level, i) => ({ item: `item_${i}`, values: daily(level), seasonLength: 7, startMs: Date.UTC(2024, 0, 1), frequency: 'D' }));
    const tasks: FitTask[] = ['ETS', 'PROPHET'].map((algorithm) => ({ kind: 'fit', algorithm, params: {}, horizon: 7, quantiles: [0.1, 0.5, 0.9], series }));
    const shard = { index: 0, inputUri: 's3://data-bucket/.engine/data/predictor/p/shards/0.in', outputUri: 's3://data-bucket/.engine/data/predictor/p/shards/0.out' };
    await store.put(shard.inputUri, serialize(tasks));
    await writeFile(
      join(outdir, 'invoke-shard.cjs'),
      `const { handler } = require(require('node:path').join(__dirname, 'functions', 'engine-shard', 'index.js'));
      const started = Date.now();
      handler(${JSON.stringify({ jobArn: 'arn:aws:forecast:us-east-1:123456789012:predictor/p', shard })}).then(
        (value) => process.stdout.write(JSON.stringify({ value, ms: Date.now() - started })),
        (error) => process.stdout.write(JSON.stringify({ error: error.name + ': ' + error.message })),
      );`,
    );

    // Act
    const { stdout } = await run(process.execPath, [join(outdir, 'invoke-shard.cjs')], {
      cwd: outdir,
      env: { PATH: process.env.PATH, NODE_PATH: layerModules(), STORAGE: 'folder', LOCAL_ROOT: storeRoot, BUCKET: 'data-bucket', AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'CRITICAL' },
      timeout: 120_000,
    });
    const outcome = JSON.parse(stdout);

    // Assess
    expect(outcome.error).toBeUndefined();
    expect(outcome.value).toMatchObject({ index: 0, batches: 2, series: 4 });
    const built = deserialize(await store.get(shard.outputUri)) as SeriesForecast[][];
    const fromSource = await Promise.all(tasks.map((task) => runFitTask(task)));
    expect(built.map((batch) => batch.map((f) => f.description))).toEqual(fromSource.map((batch) => batch.map((f) => f.description)));
    expect(built[1]![0]!.fallback).toBeUndefined(); // Prophet itself ran, not a fallback
    for (const [b, batch] of built.entries()) for (const [i, f] of batch.entries()) expect([...f.mean]).toEqual([...fromSource[b]![i]!.mean]);
    console.info(`engine-shard (built): 2 ETS + 2 Prophet fits in ${outcome.ms} ms including the WASM load`);
  }, 180_000);
});
