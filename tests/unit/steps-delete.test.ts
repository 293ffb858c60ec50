import { afterEach, describe, expect, it } from 'vitest';
import {
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DeleteDatasetImportJobCommand,
  DeleteForecastCommand,
  DeleteForecastExportJobCommand,
  DeletePredictorCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  ListDatasetGroupsCommand,
  ListDatasetImportJobsCommand,
  ListDatasetsCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
  ListPredictorsCommand,
  InvalidInputException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-forecast';
import { deleteDatasets, deleteForecasts, deletePredictors } from '../../shared/steps/delete-resources';
import { ResourcePending } from '../../shared/errors';
import { arn, mockedForecast, pipelineState, stateWithResults } from './steps-fixture';

const { mock, client } = mockedForecast();
afterEach(() => mock.reset());
const notFound = () => new ResourceNotFoundException({ message: 'gone', $metadata: {} });

describe('Function: delete-forecasts', () => {
  const forecasts = (status: string) =>
    stateWithResults().forecasts.map((f) => ({ ForecastName: f.name, ForecastArn: arn('forecast', f.name), Status: status }));

  it('deletes export jobs first and leaves the forecast for the next attempt (ResourcePending)', async () => {
    // Prepare
    mock.on(ListForecastsCommand).resolves({ Forecasts: forecasts('ACTIVE') });
    mock.on(ListForecastExportJobsCommand).callsFake((input) => ({
      ForecastExportJobs: [{ ForecastExportJobArn: `${input.Filters[0].Value}-export`, Status: 'ACTIVE' }],
    }));
    // Act
    const error = await deleteForecasts(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(DeleteForecastExportJobCommand)).toHaveLength(4);
    expect(mock.commandCalls(DeleteForecastCommand)).toHaveLength(0);
  });

  it('deletes forecasts once their export jobs are gone, then reports them deleted when no longer listed', async () => {
    // Prepare
    mock.on(ListForecastsCommand).resolvesOnce({ Forecasts: forecasts('ACTIVE') }).resolves({ Forecasts: [] });
    mock.on(ListForecastExportJobsCommand).resolves({ ForecastExportJobs: [] });
    // Act
    const first = await deleteForecasts(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    const second = await deleteForecasts(stateWithResults(), { forecast: client });
    // Assess
    expect(first).toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(DeleteForecastCommand)).toHaveLength(4);
    expect(second.deleted).toHaveLength(4);
  });

  it('waits for forecasts still being created or deleted', async () => {
    // Prepare
    mock.on(ListForecastsCommand).resolves({ Forecasts: forecasts('CREATE_IN_PROGRESS') });
    mock.on(ListForecastExportJobsCommand).resolves({ ForecastExportJobs: [] });
    // Act / Assess
    await expect(deleteForecasts(stateWithResults(), { forecast: client })).rejects.toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(DeleteForecastCommand)).toHaveLength(0);
  });

  it('treats not-found on delete as deleted and tolerates a state without result slices', async () => {
    // Prepare
    mock.on(ListForecastsCommand).resolves({ Forecasts: forecasts('ACTIVE').slice(0, 1) });
    mock.on(ListForecastExportJobsCommand).resolves({ ForecastExportJobs: [] });
    mock.on(DeleteForecastCommand).rejects(notFound());
    // Act
    const slice = await deleteForecasts(pipelineState(), { forecast: client });
    // Assess
    expect(slice.deleted).toHaveLength(4);
    expect(mock.commandCalls(ListForecastsCommand)[0]!.args[0].input.Filters).toBeUndefined();
  });
});

describe('Function: delete-predictors', () => {
  it('deletes every predictor of the run (AutoPredictor too) and waits for the deletes', async () => {
    // Prepare
    mock.on(ListPredictorsCommand).resolves({
      Predictors: stateWithResults().predictors.map((p) => ({ PredictorName: p.name, PredictorArn: arn('predictor', p.name), Status: 'ACTIVE' })),
    });
    // Act
    const error = await deletePredictors(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(DeletePredictorCommand).map((c) => c.args[0].input.PredictorArn)).toContain(arn('predictor', 'demo_AUTOPREDICTOR_2'));
  });

  it('waits while a predictor is in use (ResourceInUseException: forecasts left)', async () => {
    // Prepare
    mock.on(ListPredictorsCommand).resolves({ Predictors: [{ PredictorName: 'demo_ETS_2', PredictorArn: arn('predictor', 'demo_ETS_2'), Status: 'ACTIVE' }] });
    mock.on(DeletePredictorCommand).rejects(new ResourceInUseException({ message: 'in use', $metadata: {} }));
    // Act / Assess
    await expect(deletePredictors(stateWithResults(), { forecast: client })).rejects.toThrow(/still deleting demo_ETS_2/);
  });

  it('deletes a CREATE_FAILED predictor and is done when nothing is listed', async () => {
    // Prepare
    mock.on(ListPredictorsCommand).resolves({ Predictors: [] });
    // Act
    const slice = await deletePredictors(stateWithResults(), { forecast: client });
    // Assess
    expect(slice.deleted).toEqual(stateWithResults().predictors.map((p) => p.name));
    expect(mock.commandCalls(DeletePredictorCommand)).toHaveLength(0);
  });
});

describe('Function: delete-datasets', () => {
  it('deletes the dataset group and the import jobs before the datasets', async () => {
    // Prepare
    mock.on(DescribeDatasetGroupCommand).resolves({ Status: 'ACTIVE' });
    mock.on(ListDatasetImportJobsCommand).callsFake((input) => ({
      DatasetImportJobs: [{ DatasetImportJobArn: `${input.Filters[0].Value}-job`, Status: 'ACTIVE' }],
    }));
    // Act
    const error = await deleteDatasets(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(DeleteDatasetGroupCommand)).toHaveLength(1);
    expect(mock.commandCalls(DeleteDatasetImportJobCommand)).toHaveLength(2);
    expect(mock.commandCalls(DeleteDatasetCommand)).toHaveLength(0);
  });

  it('deletes the datasets once the group and import jobs are gone, and finishes when they are gone', async () => {
    // Prepare: round 1 deletes the group; round 2 the datasets; round 3 finds nothing left.
    mock.on(ListDatasetImportJobsCommand).resolves({ DatasetImportJobs: [] });
    mock.on(DescribeDatasetGroupCommand).resolvesOnce({ Status: 'ACTIVE' }).rejects(notFound());
    mock.on(DescribeDatasetCommand).resolvesOnce({ Status: 'ACTIVE' }).resolvesOnce({ Status: 'ACTIVE' }).rejects(notFound());
    // Act
    const first = await deleteDatasets(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    const datasetsAfterFirst = mock.commandCalls(DeleteDatasetCommand).length;
    const second = await deleteDatasets(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    const third = await deleteDatasets(stateWithResults(), { forecast: client });
    // Assess
    expect(first).toBeInstanceOf(ResourcePending);
    expect(datasetsAfterFirst).toBe(0);
    expect(second).toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(DeleteDatasetGroupCommand)).toHaveLength(1);
    expect(mock.commandCalls(DeleteDatasetCommand)).toHaveLength(2);
    expect(third.deleted).toEqual(['demo_TARGET', 'demo_RELATED', 'demo_group']);
  });

  it('has deleted the group when a dataset cannot be deleted (only the datasets stay)', async () => {
    // Prepare: the group is deleted on the first attempt; every DeleteDataset is refused.
    mock.on(ListDatasetImportJobsCommand).resolves({ DatasetImportJobs: [] });
    mock.on(DescribeDatasetGroupCommand).resolvesOnce({ Status: 'ACTIVE' }).rejects(notFound());
    mock.on(DescribeDatasetCommand).resolves({ Status: 'ACTIVE' });
    mock.on(DeleteDatasetCommand).rejects(new InvalidInputException({ message: 'refused', $metadata: {} }));
    // Act
    await deleteDatasets(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    const error = await deleteDatasets(stateWithResults(), { forecast: client }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(InvalidInputException);
    expect(mock.commandCalls(DeleteDatasetGroupCommand)).toHaveLength(1);
    expect(mock.commandCalls(DeleteDatasetCommand).length).toBeGreaterThan(0);
  });

  it('finds datasets and the group by name when the run failed before writing their slices', async () => {
    // Prepare
    mock.on(ListDatasetsCommand).resolves({ Datasets: [{ DatasetName: 'demo_TARGET', DatasetArn: arn('dataset', 'demo_TARGET') }] });
    mock.on(ListDatasetGroupsCommand).resolves({ DatasetGroups: [] });
    mock.on(ListDatasetImportJobsCommand).resolves({ DatasetImportJobs: [] });
    mock.on(DescribeDatasetCommand).resolves({ Status: 'ACTIVE' });
    mock.on(DeleteDatasetCommand).rejects(notFound());
    // Act
    const slice = await deleteDatasets(pipelineState(), { forecast: client });
    // Assess
    expect(mock.commandCalls(DeleteDatasetCommand).map((c) => c.args[0].input.DatasetArn)).toEqual([arn('dataset', 'demo_TARGET')]);
    expect(slice.deleted).toContain('demo_group');
  });
});
