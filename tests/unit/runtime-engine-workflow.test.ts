/**
 * The wiring a deployed step function gets with ForecastBackend=builtin (template.yaml's Globals):
 * FORECAST_BACKEND=builtin + FORECAST_ENGINE_EXECUTOR=workflow starts each engine job as an
 * execution of ENGINE_JOB_STATE_MACHINE_ARN (Step Functions client mocked) and answers Describe from
 * the document and the execution's status.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDatasetCommand, CreateDatasetImportJobCommand, DescribeDatasetImportJobCommand } from '@aws-sdk/client-forecast';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dependenciesFromEnv } from '../../shared/runtime';
import { TARGET_SCHEMA } from './engine-helpers';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:stack-engine-job';

describe('Runtime: FORECAST_BACKEND=builtin with FORECAST_ENGINE_EXECUTOR=workflow', () => {
  let root: string | undefined;
  afterEach(async () => {
    sfn.reset();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('starts an engine-job execution per job and fails the job on Describe once that execution was aborted', async () => {
    // Prepare
    root = await mkdtemp(join(tmpdir(), 'runtime-engine-'));
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() }));
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolves({ status: 'ABORTED' });
    const deps = await dependenciesFromEnv({
      BUCKET: 'data-bucket',
      STORAGE: 'folder',
      LOCAL_ROOT: root,
      FORECAST_BACKEND: 'builtin',
      ENGINE_STATE_URI: 's3://data-bucket/.engine',
      FORECAST_ENGINE_EXECUTOR: 'workflow',
      ENGINE_JOB_STATE_MACHINE_ARN: MACHINE,
      ENGINE_SHARD_CONCURRENCY: '7',
      WAREHOUSE: 'duckdb',
      DUCKDB_PATH: join(root, 'w.duckdb'),
    });
    const { DatasetArn } = await deps.forecast.send(
      new CreateDatasetCommand({ DatasetName: 'demo', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'D', Schema: TARGET_SCHEMA }),
    );

    // Act
    const { DatasetImportJobArn } = await deps.forecast.send(
      new CreateDatasetImportJobCommand({ DatasetImportJobName: 'imp', DatasetArn, DataSource: { S3Config: { Path: 's3://data-bucket/x.csv', RoleArn: 'arn:aws:iam::123456789012:role/x' } } }),
    );
    // The start is asynchronous, as a job's is: wait until the job's document records its execution.
    const doc = 's3://data-bucket/.engine/resources/dataset-import-job/demo/imp.json';
    await vi.waitFor(async () => expect(JSON.parse((await deps.store.get(doc)).toString()).execution).toBeDefined(), { timeout: 10_000, interval: 20 });
    const running = await deps.forecast.send(new DescribeDatasetImportJobCommand({ DatasetImportJobArn }));
    const aborted = await deps.forecast.send(new DescribeDatasetImportJobCommand({ DatasetImportJobArn }));

    // Assess
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(start.stateMachineArn).toBe(MACHINE);
    expect(start.name).toMatch(/^dataset-import-job-demo_imp-[0-9a-f]{8}$/);
    expect(JSON.parse(start.input!)).toEqual({ jobArn: DatasetImportJobArn, maxConcurrency: 7 });
    expect(running.Status).toBe('CREATE_PENDING');
    expect(aborted.Status).toBe('CREATE_FAILED');
    expect(aborted.Message).toMatch(/^The job's execution ended ABORTED before it finished the job/);
  });
});
