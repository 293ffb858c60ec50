/**
 * `npm run build` output, as SAM deploys it: each function bundle is loaded with the built
 * layer on the module path (a folder laid out like /opt/nodejs/node_modules), in a separate
 * Node process that sees nothing of the project's node_modules, and invoked against a fake
 * Amazon Forecast endpoint on 127.0.0.1 (the bundled SDK client, its error classes and our
 * error names all go through the minified bundles). That process is the Node of the Lambda
 * runtime's major (template.yaml's `nodejs<major>.x`), from the npm package `node`. The engine-job
 * functions run whole engine jobs (statemachine/engine-job.asl.json) against S3 on moto_server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAll, isForeignBinary, layerEntry, LEFT_OUT_PACKAGES, listSteps, LAYER_PACKAGE, ROOT, sharedImports } from '../../scripts/build.mjs';
import { pipelineState, stateWithResults } from '../unit/steps-fixture';
import { loadTemplate } from '../unit/template-helpers';
import { startSnowflakeServer } from '../integration/snowflake-server';

/** The Node that runs the built code: the Lambda runtime's major, installed by `npm ci`. */
const RUNTIME_MAJOR = Number(/^nodejs(\d+)\.x$/.exec(loadTemplate().Globals.Function.Runtime)![1]);
const RUNTIME_NODE = join(ROOT, 'node_modules', 'node', 'bin', 'node');
import { deserialize, serialize } from 'node:v8';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { runFitTask } from '../../engine/forecast-series';
import type { FitTask, SeriesForecast } from '../../engine/worker-protocol';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
} from '@aws-sdk/client-forecast';
import { S3ObjectStore } from '../../shared/adapters/s3-store';
import { parseS3Uri, type ObjectStore } from '../../shared/ports';
import { createBuiltinForecast, type BuiltinForecast } from '../../engine/client';
import { FaultInjector } from '../../engine/faults';
import { Repository } from '../../engine/repository';
import { LocalEngineJobWorkflow, type EngineFunction } from '../../local/engine-job-workflow';
import { dailyCsv, engineFixture, expectClose, importedGroup, waitFor } from '../unit/engine-helpers';
import { startMoto, type MotoServer } from '../integration/aws/moto';
import { startRecordingProxy, type RecordingProxy } from '../integration/aws/recording-proxy';

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

/** The environment of a process running built code: the layer only, dummy credentials, a loopback Forecast. */
function builtCodeEnv(forecastEndpoint: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    NODE_PATH: layerModules(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_FORECAST: forecastEndpoint,
    BUCKET: 'data-bucket',
    FORECAST_ROLE_ARN: 'arn:aws:iam::123456789012:role/forecast',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  };
}

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
  });

  it('is lean: at most 40 MiB, no type declarations, source maps of our bundles only, Lambda-platform binaries only', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else files.push(path);
      }
    };
    await walk(layerModules());
    expect(sizes.layerTotal).toBeLessThanOrEqual(40 * 1048576);
    expect(files.filter((f) => /\.d\.[cm]?ts$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map')).map((f) => f.slice(layerModules().length + 1))).toEqual([`${LAYER_PACKAGE}/index.js.map`]);
    const binaries = files.filter((f) => f.endsWith('.node'));
    expect(binaries.map((f) => f.split('/').pop())).toEqual(['sf_mini_core_0.0.1.linux-arm64-gnu.node']);
    expect(binaries.filter((f) => isForeignBinary(f))).toEqual([]);
    // The left-out packages are stubs of two files.
    for (const name of LEFT_OUT_PACKAGES) expect((await readdir(join(layerModules(), name))).sort(), name).toEqual(['index.js', 'package.json']);
    expect(files.some((f) => f.includes('/@azure/msal-'))).toBe(false);
    expect((await stat(join(layerModules(), 'snowflake-sdk', 'package.json'))).isFile()).toBe(true);
  });

  it('knows which native binaries belong to the Lambda platform (linux arm64 glibc)', () => {
    expect(isForeignBinary('a/sf_mini_core_0.0.1.linux-arm64-gnu.node')).toBe(false);
    expect(isForeignBinary('a/sf_mini_core_0.0.1.linux-arm64-musl.node')).toBe(true);
    expect(isForeignBinary('a/sf_mini_core_0.0.1.linux-x64-gnu.node')).toBe(true);
    expect(isForeignBinary('a/sf_mini_core_0.0.1.darwin-arm64.node')).toBe(true);
    expect(isForeignBinary('a/addon.node')).toBe(false);
  });

  it('runs the built code on the Node of the Lambda runtime', () => {
    expect(existsSync(RUNTIME_NODE)).toBe(true);
    expect(execFileSync(RUNTIME_NODE, ['--version'], { encoding: 'utf8' })).toMatch(new RegExp(`^v${RUNTIME_MAJOR}\\.`));
  });

  it('carries snowflake-sdk with its dependencies: import() from the layer package finds it (no NODE_PATH)', async () => {
    const script = "const s = await import('snowflake-sdk'); process.stdout.write(typeof (s.default ?? s).createConnection)";
    const { stdout } = await run(RUNTIME_NODE, ['--input-type=module', '-e', script], {
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
    const { stdout } = await run(RUNTIME_NODE, [join(outdir, 'invoke.cjs')], {
      cwd: outdir,
      env: {
        ...builtCodeEnv(endpoint),
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
        SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sf',
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

describe('Build: the lean layer\'s snowflake-sdk on the wire', () => {
  it('loads the driver from the built layer and queries through the built adapter (secret from a loopback Secrets Manager)', async () => {
    // Prepare: the Snowflake protocol stand-in, and a Secrets Manager endpoint that returns its credentials.
    const snowflake = await startSnowflakeServer({ accountParameters: { TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ' } });
    const secretsManager = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const secret = { account: snowflake.account, username: 'svc', password: 'secret', warehouse: 'WH', database: 'DB', schema: 'FC', accessUrl: snowflake.url };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sf', Name: 'sf', SecretString: JSON.stringify(secret) }));
      });
    });
    await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
    const script = `
      const { getDependencies } = require('forecast-shared');
      (async () => {
        const warehouse = await (await getDependencies()).warehouse();
        const rows = [];
        for await (const row of warehouse.query('SELECT ? AS GREETING, CAST(? AS TIMESTAMP) AS TS', ['hello', new Date('2025-02-01T00:00:00Z')])) rows.push(row);
        await warehouse.close();
        process.stdout.write(JSON.stringify({ rows, azure: require.resolve('@azure/storage-blob') }));
      })();
    `;
    try {
      // Act
      const { stdout } = await run(RUNTIME_NODE, ['-e', script], {
        cwd: outdir,
        env: {
          ...builtCodeEnv('http://127.0.0.1:9'),
          AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretsManager.address() as { port: number }).port}`,
          SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sf',
          SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
        },
        timeout: 60_000,
      });
      // Assess: the layer's copy answered (the stub stands where @azure/storage-blob was).
      const result = JSON.parse(stdout);
      expect(result.rows).toEqual([{ GREETING: 'hello', TS: '2025-02-01T00:00:00.000Z' }]);
      expect(result.azure).toBe(join(layerModules(), '@azure', 'storage-blob', 'index.js'));
      expect(snowflake.statements).toEqual([expect.stringMatching(/^ALTER SESSION SET TIMESTAMP_TYPE_MAPPING/), 'SELECT ? AS GREETING, CAST(? AS TIMESTAMP) AS TS']);
    } finally {
      await new Promise<void>((resolve) => secretsManager.close(() => resolve()));
      await snowflake.close();
    }
  });
});

describe('Build: X-Ray tracing in the built code', () => {
  it('sends the step subsegment with its annotations and one subsegment per AWS SDK call to the X-Ray daemon', async () => {
    // Prepare: a stand-in X-Ray daemon (UDP on 127.0.0.1) and a Forecast endpoint that creates the datasets.
    const daemon = createSocket('udp4');
    const documents: any[] = [];
    daemon.on('message', (message) => documents.push(...message.toString().split('\n').slice(1).filter(Boolean).map((line) => JSON.parse(line))));
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    const forecast = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']).replace('AmazonForecast.', '');
        const body = target === 'CreateDataset' ? { DatasetArn: `arn:aws:forecast:us-east-1:123456789012:dataset/${JSON.parse(text).DatasetName}` } : { Status: 'ACTIVE' };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => forecast.listen(0, '127.0.0.1', resolve));
    const port = (server: { address(): unknown }) => (server.address() as { port: number }).port;
    await writeFile(join(outdir, 'states-trace.json'), JSON.stringify(pipelineState()));
    const script = `
      const handler = require(${JSON.stringify(join(outdir, 'functions', 'create-dataset', 'index.js'))}).handler;
      const state = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(join(outdir, 'states-trace.json'))}, 'utf8'));
      const context = { awsRequestId: 'r-1', functionName: 'create-dataset', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:create-dataset', memoryLimitInMB: '256', getRemainingTimeInMillis: () => 60000 };
      handler(state, context).then(() => process.stdout.write('ok'), (error) => process.stdout.write(error.name));
    `;
    try {
      // Act: the Lambda environment variables the X-Ray SDK and Powertools read.
      const { stdout } = await run(RUNTIME_NODE, ['-e', script], {
        cwd: outdir,
        env: {
          ...builtCodeEnv(`http://127.0.0.1:${port(forecast)}`),
          AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${RUNTIME_MAJOR}.x`,
          AWS_LAMBDA_FUNCTION_NAME: 'create-dataset',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          LAMBDA_TASK_ROOT: outdir,
          _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
          AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port(daemon)}`,
        },
        timeout: 60_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Assess
      expect(stdout).toBe('ok');
      const step = documents.find((d) => d.name === '## create-dataset');
      expect(step).toBeDefined();
      expect(step.annotations).toEqual({ ColdStart: true, Service: 'forecast-pipeline', step: 'create-dataset' });
      expect(step.trace_id).toBe('1-5759e988-bd862e3fe1be46a994272793');
      // Sent inside the step's subsegment or streamed on their own (parent_id = the step's id).
      const nested = (d: any): any[] => [d, ...(d.subsegments ?? []).flatMap(nested)];
      const calls = documents.flatMap(nested).filter((s: any) => s.namespace === 'aws' && (s.parent_id === step.id || step.subsegments?.includes(s)));
      expect(calls.map((c: any) => `${c.name}.${c.aws?.operation}`)).toEqual(expect.arrayContaining(['Forecast.CreateDataset', 'Forecast.DescribeDataset']));
    } finally {
      daemon.close();
      await new Promise<void>((resolve) => forecast.close(() => resolve()));
    }
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

describe('Build: without npm ci', () => {
  it('fails with a message that says to run npm ci (as sam build does on a fresh clone)', async () => {
    // Prepare: the build script in a folder with no node_modules anywhere above it.
    const bare = join(outdir, 'bare');
    await mkdir(join(bare, 'scripts'), { recursive: true });
    await copyFile(join(ROOT, 'scripts', 'build.mjs'), join(bare, 'scripts', 'build.mjs'));
    // Act
    const failure = await run(RUNTIME_NODE, [join(bare, 'scripts', 'build.mjs')], { cwd: bare }).then(() => undefined, (error: { stderr: string }) => error);
    // Assess
    expect(failure?.stderr).toContain(`esbuild is not installed: run \`npm ci\` in ${bare} first`);
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
    const { stdout } = await run(RUNTIME_NODE, [join(outdir, 'invoke-shard.cjs')], {
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

describe('Build: engine jobs through the built engine-plan, engine-shard and engine-finish functions, S3 on moto_server', () => {
  const STATE_URI = 's3://bucket/.engine';
  const TIMING = { pendingMs: 5, deleteMs: 250, heartbeatMs: 200, leaseMs: 5_000 };
  let moto: MotoServer;
  let proxy: RecordingProxy;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
    // The built functions talk to moto through a proxy that records what they sent; the engine from source talks to moto directly.
    proxy = await startRecordingProxy(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    await proxy?.close();
    await moto?.stop();
  });

  /** A Lambda invocation: the built function's handler in a process of its own, with the built layer, STORAGE=s3 on moto. */
  function invokeBuilt(functionName: EngineFunction, event: unknown): Promise<unknown> {
    const script = `require(${JSON.stringify(join(outdir, 'functions', functionName, 'index.js'))}).handler(JSON.parse(process.argv[1])).then(
      (value) => process.stdout.write(JSON.stringify({ value })),
      (error) => process.stdout.write(JSON.stringify({ error: { name: error.name, message: error.message } })));`;
    // A small shard cost (as a deploy may set it) so that four series make a Map of several shards.
    const env = { ...builtCodeEnv('http://127.0.0.1:9'), STORAGE: 's3', BUCKET: 'bucket', AWS_ENDPOINT_URL_S3: proxy.endpoint, ENGINE_SHARD_COST: '150' };
    return run(RUNTIME_NODE, ['-e', script, JSON.stringify(event)], { cwd: outdir, env, timeout: 120_000 }).then(({ stdout }) => {
      const outcome = JSON.parse(stdout) as { value?: unknown; error?: { name: string; message: string } };
      if (outcome.error) throw Object.assign(new Error(outcome.error.message), { name: outcome.error.name });
      return outcome.value;
    });
  }

  /**
   * Import, an ETS predictor (one backtest window), its forecast and the export of a few daily
   * series: each a job of its own; what a user reads back.
   */
  async function etsRun(engine: BuiltinForecast, store: ObjectStore) {
    const { DatasetGroupArn } = await importedGroup({ engine, store }, dailyCsv(['a', 'b', 'c', 'd'], 60));
    const { PredictorArn } = await engine.send(
      new CreatePredictorCommand({
        PredictorName: 'built_ets',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
        ForecastHorizon: 7,
        EvaluationParameters: { NumberOfBacktestWindows: 1, BackTestWindowOffset: 7 },
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    const predictor = await waitFor(() => engine.send(new DescribePredictorCommand({ PredictorArn })), 120_000);
    const metrics = await engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));
    const { ForecastArn } = await engine.send(new CreateForecastCommand({ ForecastName: 'built_ets_fc', PredictorArn }));
    const forecast = await waitFor(() => engine.send(new DescribeForecastCommand({ ForecastArn })), 120_000);
    const { ForecastExportJobArn } = await engine.send(
      new CreateForecastExportJobCommand({
        ForecastExportJobName: 'built_ets_export',
        ForecastArn,
        Destination: { S3Config: { Path: 's3://bucket/exports/', RoleArn: 'arn:aws:iam::000000000000:role/x' } },
      }),
    );
    const exportJob = await waitFor(() => engine.send(new DescribeForecastExportJobCommand({ ForecastExportJobArn })), 120_000);
    const parts = (await store.list('s3://bucket/exports/')).filter((p) => p.uri.endsWith('.csv'));
    const exported = await Promise.all(parts.map(async (p) => (await store.get(p.uri)).toString()));
    return { statuses: [predictor.Status, forecast.Status, exportJob.Status], metrics: metrics.PredictorEvaluationResults, exported };
  }

  it('ends the import, predictor, forecast and export jobs ACTIVE with the in-process engine\'s metrics and export bytes, the documents moved by If-Match', async () => {
    // Prepare: the engine from source on the same S3 (it creates the documents and starts the jobs); the
    // engine-job ASL runs here, each of its tasks a built function in a child process.
    const store = new S3ObjectStore(new S3Client(moto.clientConfig));
    const invoked: { functionName: EngineFunction; jobArn: string; ms: number; shards?: number }[] = [];
    const jobWorkflow = new LocalEngineJobWorkflow({
      deps: { store, repo: new Repository(store, STATE_URI), faults: new FaultInjector([]), exportPartRows: 100_000 },
      storeRoot: '',
      invokeFunction: async (functionName, event) => {
        const started = Date.now();
        const value = await invokeBuilt(functionName, event);
        const shards = functionName === 'engine-plan' ? (value as { shards: unknown[] }).shards.length : undefined;
        invoked.push({ functionName, jobArn: String((event as { jobArn: string }).jobArn), ms: Date.now() - started, ...(shards === undefined ? {} : { shards }) });
        return value;
      },
    });
    const engine = createBuiltinForecast({ store, stateUri: STATE_URI, faults: new FaultInjector([]), timing: TIMING, jobWorkflow });
    const inProcess = await engineFixture();
    try {
      // Act
      const started = Date.now();
      const built = await etsRun(engine, store);
      const elapsedMs = Date.now() - started;
      const expected = await etsRun(inProcess.engine, inProcess.store);

      // Assess: the same jobs, the same numbers and bytes.
      expect(built.statuses).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
      expect(expected.statuses).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
      expectClose(built.metrics, expected.metrics);
      expect(built.exported.length).toBeGreaterThan(0);
      expect(built.exported).toEqual(expected.exported);
      // Every job ran Plan, one engine-shard invocation per shard of its plan, and Finish, all built.
      const plans = invoked.filter((i) => i.functionName === 'engine-plan');
      expect(plans.map((p) => p.jobArn.split(':').pop()!.split('/')[0])).toEqual(['dataset-import-job', 'predictor', 'forecast', 'forecast-export-job']);
      expect(invoked.filter((i) => i.functionName === 'engine-finish').map((f) => f.jobArn)).toEqual(plans.map((p) => p.jobArn));
      const shardRuns = invoked.filter((i) => i.functionName === 'engine-shard').length;
      expect(shardRuns).toBe(plans.reduce((sum, p) => sum + p.shards!, 0));
      expect(plans[1]!.shards).toBeGreaterThanOrEqual(2); // the predictor's fits spread over shards
      // Plan and Finish (built) moved each job's document, every time by compare-and-swap on its ETag.
      const repo = new Repository(store, STATE_URI);
      let documentWrites = 0;
      for (const { jobArn } of plans) {
        const key = parseS3Uri(repo.uriOf(jobArn)).key;
        const writes = proxy.requests.filter((r) => r.method === 'PUT' && r.path === `/bucket/${key}`);
        expect(writes.length, jobArn).toBeGreaterThanOrEqual(2);
        documentWrites += writes.length;
        expect(writes.filter((w) => !w.ifMatch?.startsWith('"') || w.status !== 200), jobArn).toEqual([]);
      }
      expect(await store.list(`${STATE_URI}/data/predictor/built_ets/shards/`)).toEqual([]);
      console.info(`engine jobs on the built functions, S3 on moto: import, ETS predictor, forecast, export in ${elapsedMs} ms; ${invoked.length} invocations (${shardRuns} shards), ${invoked.map((i) => i.ms).join('/')} ms each; ${documentWrites} If-Match document writes from the built functions`);
    } finally {
      await engine.idle();
      await engine.close();
      await inProcess.cleanup();
    }
  }, 240_000);

  it('refuses a stale If-Match and a second If-None-Match create through the built layer\'s S3 adapter (PreconditionFailed from moto)', async () => {
    // Prepare
    const script = `
      const { getEngineJobDependencies } = require('forecast-shared');
      const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ error: error.name }));
      (async () => {
        const { store } = await getEngineJobDependencies();
        const uri = 's3://bucket/.engine/resources/probe.json';
        const created = await store.putIf(uri, '{"n":1}', { ifNoneMatch: '*' });
        const createdAgain = await outcome(store.putIf(uri, '{"n":2}', { ifNoneMatch: '*' }));
        const updated = await outcome(store.putIf(uri, '{"n":3}', { ifMatch: created }));
        const stale = await outcome(store.putIf(uri, '{"n":4}', { ifMatch: created }));
        process.stdout.write(JSON.stringify({ created, createdAgain, updated, stale, body: (await store.get(uri)).toString() }));
      })();
    `;
    // Act
    const { stdout } = await run(RUNTIME_NODE, ['-e', script], { cwd: outdir, env: { ...builtCodeEnv('http://127.0.0.1:9'), STORAGE: 's3', BUCKET: 'bucket', AWS_ENDPOINT_URL_S3: proxy.endpoint }, timeout: 60_000 });
    const result = JSON.parse(stdout);
    // Assess
    expect(result.createdAgain).toEqual({ error: 'PreconditionFailed' });
    expect(result.updated).toEqual({ value: expect.stringMatching(/^"[0-9a-f]+"$/) });
    expect(result.updated.value).not.toBe(result.created);
    expect(result.stale).toEqual({ error: 'PreconditionFailed' });
    expect(result.body).toBe('{"n":3}');
    const probes = proxy.requests.filter((r) => r.path === '/bucket/.engine/resources/probe.json' && r.method === 'PUT');
    expect(probes.map((r) => [r.ifNoneMatch ?? `If-Match ${r.ifMatch === result.created ? 'created' : r.ifMatch}`, r.status])).toEqual([
      ['*', 200],
      ['*', 412],
      ['If-Match created', 200],
      ['If-Match created', 412],
    ]);
  }, 60_000);
});
