import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  ListDatasetGroupsCommand,
  ListDatasetImportJobsCommand,
  ListDatasetsCommand,
  ResourceAlreadyExistsException,
  UpdateDatasetGroupCommand,
} from '@aws-sdk/client-forecast';
import { createDatasets } from '../../shared/steps/create-dataset';
import { createDatasetGroup } from '../../shared/steps/create-dataset-group';
import { createImportJobs } from '../../shared/steps/create-import-jobs';
import { ResourceFailed, ResourcePending } from '../../shared/errors';
import { arn, mockedForecast, pipelineState, ROLE_ARN, stateWithResults } from './steps-fixture';

const exists = (message = 'exists') => new ResourceAlreadyExistsException({ message, $metadata: {} });
const { mock, client } = mockedForecast();
afterEach(() => mock.reset());

describe('Function: create-dataset', () => {
  it('creates every dataset with its schema and returns their ARNs', async () => {
    // Prepare
    mock.on(CreateDatasetCommand).callsFake((input) => ({ DatasetArn: arn('dataset', input.DatasetName) }));
    mock.on(DescribeDatasetCommand).resolves({ Status: 'ACTIVE' });
    // Act
    const slice = await createDatasets(pipelineState(), { forecast: client });
    // Assess
    expect(slice).toEqual([
      { kind: 'TARGET', name: 'demo_TARGET', arn: arn('dataset', 'demo_TARGET') },
      { kind: 'RELATED', name: 'demo_RELATED', arn: arn('dataset', 'demo_RELATED') },
    ]);
    const created = mock.commandCalls(CreateDatasetCommand).map((c) => c.args[0].input);
    expect(created[0]).toMatchObject({ DatasetName: 'demo_TARGET', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'D' });
    expect(created[1]!.Schema!.Attributes!.map((a) => a.AttributeName)).toEqual(['timestamp', 'item_id', 'price']);
  });

  it('finds an existing dataset by name on redelivery instead of creating twice', async () => {
    // Prepare
    mock.on(CreateDatasetCommand).rejects(exists());
    mock
      .on(ListDatasetsCommand, { NextToken: undefined })
      .resolves({ Datasets: [{ DatasetName: 'other', DatasetArn: arn('dataset', 'other') }], NextToken: 'page2' })
      .on(ListDatasetsCommand, { NextToken: 'page2' })
      .resolves({ Datasets: [{ DatasetName: 'demo_TARGET', DatasetArn: arn('dataset', 'demo_TARGET') }, { DatasetName: 'demo_RELATED', DatasetArn: arn('dataset', 'demo_RELATED') }] });
    mock.on(DescribeDatasetCommand).resolves({ Status: 'ACTIVE' });
    // Act
    const slice = await createDatasets(pipelineState(), { forecast: client });
    // Assess
    expect(slice.map((d) => d.arn)).toEqual([arn('dataset', 'demo_TARGET'), arn('dataset', 'demo_RELATED')]);
    expect(mock.commandCalls(ListDatasetsCommand).length).toBeGreaterThanOrEqual(2);
  });

  it('throws ResourcePending while a dataset is updating (an import runs), not a failure', async () => {
    // Prepare
    mock.on(CreateDatasetCommand).callsFake((input) => ({ DatasetArn: arn('dataset', input.DatasetName) }));
    mock.on(DescribeDatasetCommand, { DatasetArn: arn('dataset', 'demo_TARGET') }).resolves({ Status: 'UPDATE_IN_PROGRESS' });
    mock.on(DescribeDatasetCommand, { DatasetArn: arn('dataset', 'demo_RELATED') }).resolves({ Status: 'ACTIVE' });
    // Act / Assess
    await expect(createDatasets(pipelineState(), { forecast: client })).rejects.toBeInstanceOf(ResourcePending);
  });

  it('throws ResourceFailed naming the dataset when any dataset (not only the last) failed', async () => {
    // Prepare
    mock.on(CreateDatasetCommand).callsFake((input) => ({ DatasetArn: arn('dataset', input.DatasetName) }));
    mock.on(DescribeDatasetCommand, { DatasetArn: arn('dataset', 'demo_TARGET') }).resolves({ Status: 'CREATE_FAILED' });
    mock.on(DescribeDatasetCommand, { DatasetArn: arn('dataset', 'demo_RELATED') }).resolves({ Status: 'ACTIVE' });
    // Act
    const error = await createDatasets(pipelineState(), { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourceFailed);
    expect((error as Error).message).toMatch(/demo_TARGET is CREATE_FAILED/);
  });

  it('propagates other service errors unchanged (the ASL retries LimitExceededException by name)', async () => {
    // Prepare
    mock.on(CreateDatasetCommand).rejects(Object.assign(new Error('too many'), { name: 'LimitExceededException' }));
    mock.on(ListDatasetsCommand).resolves({ Datasets: [] });
    // Act / Assess
    await expect(createDatasets(pipelineState(), { forecast: client })).rejects.toMatchObject({ name: 'LimitExceededException' });
  });
});

describe('Function: create-dataset-group', () => {
  const state = () => {
    const s = stateWithResults();
    delete s.results.datasetGroup;
    return s;
  };

  it('creates the group with every dataset ARN', async () => {
    // Prepare
    mock.on(CreateDatasetGroupCommand).resolves({ DatasetGroupArn: arn('dataset-group', 'demo_group') });
    mock.on(DescribeDatasetGroupCommand).resolves({ Status: 'ACTIVE', DatasetArns: [arn('dataset', 'demo_TARGET'), arn('dataset', 'demo_RELATED')] });
    // Act
    const slice = await createDatasetGroup(state(), { forecast: client });
    // Assess
    expect(slice).toEqual({ name: 'demo_group', arn: arn('dataset-group', 'demo_group') });
    expect(mock.commandCalls(CreateDatasetGroupCommand)[0]!.args[0].input).toMatchObject({
      DatasetGroupName: 'demo_group',
      Domain: 'CUSTOM',
      DatasetArns: [arn('dataset', 'demo_TARGET'), arn('dataset', 'demo_RELATED')],
    });
    expect(mock.commandCalls(UpdateDatasetGroupCommand)).toHaveLength(0);
  });

  it('finds the existing group on redelivery and attaches datasets it lacks', async () => {
    // Prepare
    mock.on(CreateDatasetGroupCommand).rejects(exists());
    mock.on(ListDatasetGroupsCommand).resolves({ DatasetGroups: [{ DatasetGroupName: 'demo_group', DatasetGroupArn: arn('dataset-group', 'demo_group') }] });
    mock
      .on(DescribeDatasetGroupCommand)
      .resolvesOnce({ Status: 'ACTIVE', DatasetArns: [arn('dataset', 'demo_TARGET')] })
      .resolves({ Status: 'UPDATE_IN_PROGRESS', DatasetArns: [arn('dataset', 'demo_TARGET'), arn('dataset', 'demo_RELATED')] });
    // Act
    const error = await createDatasetGroup(state(), { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(mock.commandCalls(UpdateDatasetGroupCommand)[0]!.args[0].input.DatasetArns).toHaveLength(2);
    expect(error).toBeInstanceOf(ResourcePending);
  });

  it('throws ResourceFailed when the group failed', async () => {
    // Prepare
    mock.on(CreateDatasetGroupCommand).resolves({ DatasetGroupArn: arn('dataset-group', 'demo_group') });
    mock.on(DescribeDatasetGroupCommand).resolves({ Status: 'CREATE_FAILED', DatasetArns: [arn('dataset', 'demo_TARGET'), arn('dataset', 'demo_RELATED')] });
    // Act / Assess
    await expect(createDatasetGroup(state(), { forecast: client })).rejects.toBeInstanceOf(ResourceFailed);
  });

  it('throws InvalidInput when the datasets slice is missing', async () => {
    await expect(createDatasetGroup(pipelineState(), { forecast: client })).rejects.toMatchObject({ name: 'InvalidInput' });
  });
});

describe('Function: create-import-jobs', () => {
  const deps = { forecast: client, settings: { forecastRoleArn: ROLE_ARN } };
  const jobArn = (dataset: string, job: string) => arn('dataset-import-job', `${dataset}/${job}`);

  it('imports each dataset from its S3 CSV with the Forecast role and timestamp format', async () => {
    // Prepare
    mock.on(CreateDatasetImportJobCommand).callsFake((input) => ({
      DatasetImportJobArn: jobArn(input.DatasetArn.split('/').pop(), input.DatasetImportJobName),
    }));
    mock.on(DescribeDatasetImportJobCommand).resolves({ Status: 'ACTIVE' });
    // Act
    const slice = await createImportJobs(stateWithResults(), deps);
    // Assess
    expect(slice).toEqual([
      { datasetName: 'demo_TARGET', name: 'demo_TARGET_20240301', arn: jobArn('demo_TARGET', 'demo_TARGET_20240301') },
      { datasetName: 'demo_RELATED', name: 'demo_RELATED_20240301', arn: jobArn('demo_RELATED', 'demo_RELATED_20240301') },
    ]);
    expect(mock.commandCalls(CreateDatasetImportJobCommand)[0]!.args[0].input).toEqual({
      DatasetImportJobName: 'demo_TARGET_20240301',
      DatasetArn: arn('dataset', 'demo_TARGET'),
      DataSource: { S3Config: { Path: 's3://data-bucket/demo/20240301/target.csv', RoleArn: ROLE_ARN } },
      TimestampFormat: 'yyyy-MM-dd',
    });
  });

  it('throws ResourcePending while an import is in progress', async () => {
    // Prepare
    mock.on(CreateDatasetImportJobCommand).callsFake((input) => ({ DatasetImportJobArn: jobArn('x', input.DatasetImportJobName) }));
    mock.on(DescribeDatasetImportJobCommand).resolves({ Status: 'CREATE_IN_PROGRESS' });
    // Act / Assess
    await expect(createImportJobs(stateWithResults(), deps)).rejects.toBeInstanceOf(ResourcePending);
  });

  it('throws ResourceFailed with the service message when an import failed', async () => {
    // Prepare
    mock.on(CreateDatasetImportJobCommand).callsFake((input) => ({ DatasetImportJobArn: jobArn('x', input.DatasetImportJobName) }));
    mock.on(DescribeDatasetImportJobCommand).resolves({ Status: 'CREATE_FAILED', Message: 'Column item_id is missing' });
    // Act
    const error = await createImportJobs(stateWithResults(), deps).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourceFailed);
    expect((error as Error).message).toContain('Column item_id is missing');
  });

  it('finds the existing job by name among the dataset\'s jobs on redelivery', async () => {
    // Prepare
    mock.on(CreateDatasetImportJobCommand).rejects(exists());
    mock.on(ListDatasetImportJobsCommand).callsFake((input) => {
      const dataset = input.Filters[0].Value.split('/').pop();
      return {
        DatasetImportJobs: [
          { DatasetImportJobName: `${dataset}_older`, DatasetImportJobArn: jobArn(dataset, `${dataset}_older`) },
          { DatasetImportJobName: `${dataset}_20240301`, DatasetImportJobArn: jobArn(dataset, `${dataset}_20240301`) },
        ],
      };
    });
    mock.on(DescribeDatasetImportJobCommand).resolves({ Status: 'ACTIVE' });
    // Act
    const slice = await createImportJobs(stateWithResults(), deps);
    // Assess
    expect(slice.map((j) => j.arn)).toEqual([jobArn('demo_TARGET', 'demo_TARGET_20240301'), jobArn('demo_RELATED', 'demo_RELATED_20240301')]);
    expect(mock.commandCalls(ListDatasetImportJobsCommand)[0]!.args[0].input.Filters).toEqual([
      { Key: 'DatasetArn', Value: arn('dataset', 'demo_TARGET'), Condition: 'IS' },
    ]);
  });

  it('is pending, not failed, when the name is still held by a resource being deleted', async () => {
    // Prepare
    mock.on(CreateDatasetImportJobCommand).rejects(exists());
    mock.on(ListDatasetImportJobsCommand).resolves({ DatasetImportJobs: [] });
    // Act / Assess
    await expect(createImportJobs(stateWithResults(), deps)).rejects.toBeInstanceOf(ResourcePending);
  });
});
