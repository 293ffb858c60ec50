/**
 * The workflow executor: engine jobs as executions of the real statemachine/engine-job.asl.json
 * (aws-local-stepfunctions), shards in child processes. Same metrics and forecasts as the
 * in-process executor; a failing shard, a failing Finish and an execution that ended without
 * finishing all end the job CREATE_FAILED with a Message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
} from '@aws-sdk/client-forecast';
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinForecast, type BuiltinForecast } from '../../engine/client';
import { FaultInjector } from '../../engine/faults';
import { Repository } from '../../engine/repository';
import { LocalEngineJobWorkflow, runShardProcess, type ShardFinished } from '../../local/engine-job-workflow';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import type { ExecutionStatus, WorkflowRunner } from '../../shared/ports';
import { dailyCsv, describeExport, describeForecast, expectClose, importedGroup, waitFor, type EngineFixture } from '../unit/engine-helpers';

const STATE = 's3://bucket/.engine';
const ITEMS = ['a', 'b', 'c', 'd', 'e'];
const TIMING = { pendingMs: 5, deleteMs: 250, heartbeatMs: 200, leaseMs: 2_000 };

type ShardRunner = ConstructorParameters<typeof LocalEngineJobWorkflow>[0]['runShard'];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fixture(kind: 'in-process' | 'workflow', options: { runShard?: ShardRunner; shardCost?: number; partitionBytes?: number; jobWorkflow?: WorkflowRunner } = {}) {
  const root = await mkdtemp(join(tmpdir(), `engine-${kind}-`));
  const store = new FolderObjectStore(root);
  const shards: ShardFinished[] = [];
  const faults = new FaultInjector([]);
  const jobWorkflow =
    options.jobWorkflow ??
    (kind === 'workflow'
      ? new LocalEngineJobWorkflow({
          deps: { store, repo: new Repository(store, STATE), faults, exportPartRows: 100_000, shardCost: options.shardCost ?? 400, partitionBytes: options.partitionBytes },
          storeRoot: root,
          onShard: (event) => shards.push(event),
          ...(options.runShard ? { runShard: options.runShard } : {}),
        })
      : undefined);
  const engine: BuiltinForecast = createBuiltinForecast({ store, stateUri: STATE, workers: 1, faults, timing: TIMING, ...(jobWorkflow ? { jobWorkflow } : {}) });
  cleanups.push(async () => {
    await engine.idle();
    await engine.close();
    await rm(root, { recursive: true, force: true });
  });
  const fx: EngineFixture = { root, store, engine, cleanup: async () => {} };
  return { fx, shards };
}

async function trainedPredictor(fx: EngineFixture, algorithm = 'ETS') {
  const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(ITEMS, 90));
  const { PredictorArn } = await fx.engine.send(
    new CreatePredictorCommand({
      PredictorName: 'sharded',
      AlgorithmArn: `arn:aws:forecast:::algorithm/${algorithm}`,
      ForecastHorizon: 7,
      EvaluationParameters: { NumberOfBacktestWindows: 2, BackTestWindowOffset: 7 },
      InputDataConfig: { DatasetGroupArn },
      FeaturizationConfig: { ForecastFrequency: 'D' },
    }),
  );
  const described = await waitFor(() => fx.engine.send(new DescribePredictorCommand({ PredictorArn })), 120_000);
  return { PredictorArn: PredictorArn!, described };
}

/** Predictor → metrics → forecast → export; returns what a user reads. */
async function wholeRun(fx: EngineFixture) {
  const { PredictorArn, described } = await trainedPredictor(fx);
  expect(described).toMatchObject({ Status: 'ACTIVE' });
  const metrics = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));
  const { ForecastArn } = await fx.engine.send(new CreateForecastCommand({ ForecastName: 'sharded_fc', PredictorArn }));
  expect(await waitFor(() => describeForecast(fx, ForecastArn!), 120_000)).toMatchObject({ Status: 'ACTIVE' });
  const { ForecastExportJobArn } = await fx.engine.send(
    new CreateForecastExportJobCommand({
      ForecastExportJobName: 'sharded_export',
      ForecastArn,
      Destination: { S3Config: { Path: 's3://bucket/exports/', RoleArn: 'arn:aws:iam::000000000000:role/x' } },
    }),
  );
  expect(await waitFor(() => describeExport(fx, ForecastExportJobArn!), 120_000)).toMatchObject({ Status: 'ACTIVE' });
  const parts = await fx.store.list('s3://bucket/exports/');
  const exported = await Promise.all(parts.filter((p) => p.uri.endsWith('.csv')).map(async (p) => (await fx.store.get(p.uri)).toString()));
  return { metrics: metrics.PredictorEvaluationResults, exported };
}

describe('Engine jobs on the workflow executor (engine-job.asl.json, shards in child processes)', () => {
  it('gives the metrics and the exported forecasts of the in-process executor', async () => {
    // Prepare
    const inProcess = await fixture('in-process');
    const workflow = await fixture('workflow');

    // Act
    const expected = await wholeRun(inProcess.fx);
    const actual = await wholeRun(workflow.fx);

    // Assess
    expect(workflow.shards.length).toBeGreaterThan(2);
    expect(new Set(workflow.shards.map((s) => s.jobArn)).size).toBe(2); // the predictor's and the forecast's
    expectClose(actual.metrics, expected.metrics);
    expect(actual.exported.length).toBe(expected.exported.length);
    expect(actual.exported.join('')).toBe(expected.exported.join(''));
    expect(await workflow.fx.store.list(`${STATE}/data/predictor/sharded/shards/`)).toEqual([]);
  }, 240_000);

  it('gives the same metrics and forecasts when the import is stored in item partitions that Plan reads one at a time', async () => {
    // Prepare
    const inProcess = await fixture('in-process');
    const workflow = await fixture('workflow', { partitionBytes: 2_000 }); // 5 items × 90 days ≈ 8 KB of CSV: 4 partitions
    const rows = (files: string[]) => files.flatMap((f) => f.trim().split('\n').slice(1)).sort();

    // Act
    const expected = await wholeRun(inProcess.fx);
    const actual = await wholeRun(workflow.fx);

    // Assess
    const [importJob] = await new Repository(workflow.fx.store, STATE).list('dataset-import-job');
    expect(importJob!.result).toMatchObject({ partitions: 4, rowCount: ITEMS.length * 90, itemCount: ITEMS.length });
    const [predictor] = await new Repository(workflow.fx.store, STATE).list('predictor');
    expect(predictor!.result!.seriesParts).toHaveLength(4); // planned unit by unit
    expectClose(actual.metrics, expected.metrics);
    expect(rows(actual.exported)).toEqual(rows(expected.exported));
    expect(rows(actual.exported)).toHaveLength(ITEMS.length * 7);
  }, 240_000);

  it('fails the job with a Message naming the items of a shard that keeps failing', async () => {
    // Prepare
    let attempts = 0;
    const { fx } = await fixture('workflow', {
      runShard: async (input, root) => {
        if (input.shard.index !== 1) return runShardProcess(input, root);
        attempts++;
        throw Object.assign(new Error('Lambda ran out of memory'), { name: 'Lambda.ServiceException' });
      },
    });

    // Act
    const { described } = await trainedPredictor(fx);

    // Assess
    expect(described.Status).toBe('CREATE_FAILED');
    expect(described.Message).toMatch(/^Shard 2 of \d+ \(\d+ item\(s\): [a-e](, [a-e])*\) failed: Lambda\.ServiceException: Lambda ran out of memory/);
    expect(attempts).toBe(4); // the first try and the ASL's 3 retries
  }, 120_000);

  it('fails the job naming the shard whose process was killed', async () => {
    // Prepare
    const { fx } = await fixture('workflow', {
      runShard: (input, root) => runShardProcess(input, root, (child) => (input.shard.index === 0 ? child.kill('SIGKILL') : undefined)),
    });

    // Act
    const { described } = await trainedPredictor(fx);

    // Assess
    expect(described.Status).toBe('CREATE_FAILED');
    expect(described.Message).toMatch(/^Shard 1 of \d+ \(\d+ item\(s\): [a-e](, [a-e])*\) failed: ShardFailed: Shard 0 process killed by SIGKILL/);
  }, 120_000);

  it('fails the job when Finish fails (a shard result lost before the merge)', async () => {
    // Prepare
    const { fx } = await fixture('workflow', {
      runShard: async (input, root) => {
        const result = await runShardProcess(input, root);
        if (input.shard.index === 0) await new FolderObjectStore(root).delete((input.shard as unknown as { outputUri: string }).outputUri);
        return result;
      },
    });

    // Act
    const { described } = await trainedPredictor(fx);

    // Assess
    expect(described.Status).toBe('CREATE_FAILED');
    expect(described.Message).toMatch(/^ObjectNotFound: No object at s3:\/\/bucket\/\.engine\/data\/predictor\/sharded\/shards\/0\.out/);
  }, 120_000);

  it('marks a job CREATE_FAILED on Describe when its execution ended without finishing it', async () => {
    // Prepare: an execution that starts and then is aborted (nothing runs its steps).
    const statuses = new Map<string, ExecutionStatus>();
    const jobWorkflow: WorkflowRunner = {
      async startExecution(name) {
        const executionArn = `arn:aws:states:us-east-1:000000000000:execution:EngineJob:${name}`;
        statuses.set(executionArn, 'RUNNING');
        return { executionArn, alreadyStarted: false };
      },
      executionStatus: async (arn) => statuses.get(arn) ?? 'ABORTED',
    };
    const { fx } = await fixture('workflow', { jobWorkflow });
    const { DatasetGroupArn } = await (async () => {
      const inProcess = await fixture('in-process');
      return importedGroup(inProcess.fx, dailyCsv(ITEMS, 30)).then(async (arns) => {
        // The dataset and group live in the in-process engine's folder: copy its state over.
        for (const object of await inProcess.fx.store.list(`${STATE}/`)) await fx.store.put(object.uri, await inProcess.fx.store.get(object.uri));
        return arns;
      });
    })();
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'aborted',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
        ForecastHorizon: 7,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    await fx.engine.idle();
    const running = await fx.engine.send(new DescribePredictorCommand({ PredictorArn }));

    // Act
    for (const arn of statuses.keys()) statuses.set(arn, 'ABORTED');
    const after = await fx.engine.send(new DescribePredictorCommand({ PredictorArn }));

    // Assess
    expect(running.Status).toBe('CREATE_PENDING');
    expect(after.Status).toBe('CREATE_FAILED');
    expect(after.Message).toMatch(/^The job's execution ended ABORTED before it finished the job \(arn:aws:states:.*:EngineJob:predictor-aborted-/);
  }, 60_000);
});
