import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CreateAutoPredictorCommand,
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  DescribeAutoPredictorCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
  InvalidInputException,
  LimitExceededException,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
  ListPredictorsCommand,
  ResourceAlreadyExistsException,
  type GetAccuracyMetricsResponse,
} from '@aws-sdk/client-forecast';
import { createPredictors, toAccuracyMetrics, validatePredictorSpec } from '../../shared/steps/create-predictors';
import { createForecasts } from '../../shared/steps/create-forecasts';
import { publishAccuracyMetrics } from '../../shared/observability';
import { ResourceFailed, ResourcePending } from '../../shared/errors';
import { arn, mockedForecast, pipelineState, ROLE_ARN, stateWithResults } from './steps-fixture';

const { mock, client } = mockedForecast();
afterEach(() => mock.reset());

const ACCURACY: GetAccuracyMetricsResponse = {
  PredictorEvaluationResults: [
    {
      TestWindows: [
        { EvaluationType: 'COMPUTED', Metrics: { RMSE: 9 } },
        {
          EvaluationType: 'SUMMARY',
          Metrics: {
            RMSE: 1.5,
            WeightedQuantileLosses: [{ Quantile: 0.5, LossValue: 0.1 }, { Quantile: 0.9, LossValue: 0.05 }],
            ErrorMetrics: [{ ForecastType: 'mean', WAPE: 0.2, RMSE: 1.4, MASE: 0.9, MAPE: 0.3 }],
            AverageWeightedQuantileLoss: 0.075,
          },
        },
      ],
    },
  ],
};

function stateForPredictors() {
  const state = stateWithResults();
  delete state.results.predictors;
  return state;
}

function predictorsRespond(status: (name: string) => string, message?: string) {
  mock.on(CreatePredictorCommand).callsFake((input) => ({ PredictorArn: arn('predictor', input.PredictorName) }));
  mock.on(CreateAutoPredictorCommand).callsFake((input) => ({ PredictorArn: arn('predictor', input.PredictorName) }));
  const describe = (input: { PredictorArn: string }) => ({ Status: status(input.PredictorArn.split('/').pop()!), Message: message });
  mock.on(DescribePredictorCommand).callsFake(describe);
  mock.on(DescribeAutoPredictorCommand).callsFake(describe);
  mock.on(GetAccuracyMetricsCommand).resolves(ACCURACY);
}

describe('Function: create-predictors', () => {
  it('creates one predictor per model: algorithm, HPO, AutoML and AutoPredictor, each with its own featurization', async () => {
    // Prepare
    predictorsRespond(() => 'ACTIVE');
    const publishMetrics = vi.fn();
    // Act
    const slice = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics });
    // Assess
    expect(slice.map((p) => [p.name, p.status])).toEqual([
      ['demo_ETS_2', 'ACTIVE'],
      ['demo_CNNQR_2_hpo', 'ACTIVE'],
      ['demo_AUTOML_2', 'ACTIVE'],
      ['demo_AUTOPREDICTOR_2', 'ACTIVE'],
    ]);
    const legacy = mock.commandCalls(CreatePredictorCommand).map((c) => c.args[0].input);
    expect(legacy).toHaveLength(3);
    expect(legacy[0]).toMatchObject({
      PredictorName: 'demo_ETS_2',
      AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
      ForecastHorizon: 14,
      ForecastTypes: ['0.50', '0.90'],
      PerformAutoML: false,
      PerformHPO: false,
      EvaluationParameters: { NumberOfBacktestWindows: 2, BackTestWindowOffset: 14 },
      InputDataConfig: { DatasetGroupArn: arn('dataset-group', 'demo_group') },
      FeaturizationConfig: { ForecastFrequency: 'D' },
    });
    expect(legacy[1]).toMatchObject({ AlgorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR', PerformHPO: true });
    expect(legacy[2]).toMatchObject({ PerformAutoML: true, PerformHPO: false, AlgorithmArn: undefined });
    // The seed shared one featurization object between predictors: each has its own now.
    const pipelines = legacy.map((p) => p.FeaturizationConfig!.Featurizations![0]!.FeaturizationPipeline![0]!.FeaturizationMethodParameters);
    expect(pipelines[0]).toEqual({ aggregation: 'sum', frontfill: 'none', middlefill: 'mean', backfill: 'mean' });
    expect(pipelines[0]).not.toBe(pipelines[1]);
    expect(mock.commandCalls(CreateAutoPredictorCommand)[0]!.args[0].input).toMatchObject({
      PredictorName: 'demo_AUTOPREDICTOR_2',
      ForecastFrequency: 'D',
      DataConfig: { DatasetGroupArn: arn('dataset-group', 'demo_group') },
    });
    expect(publishMetrics).toHaveBeenCalledTimes(4);
  });

  it('passes manual hyperparameters with HPO off and a backtest-window count per predictor', async () => {
    // Prepare
    predictorsRespond(() => 'ACTIVE');
    const state = stateForPredictors();
    state.predictors = [
      { ...state.predictors[1]!, name: 'demo_CNNQR_manual', performHPO: false, trainingParameters: { context_length: '28', epochs: '50' }, backtestWindows: 4, backtestWindowOffset: 21 },
    ];
    // Act
    await createPredictors(state, { forecast: client, publishMetrics: vi.fn() });
    // Assess
    expect(mock.commandCalls(CreatePredictorCommand)[0]!.args[0].input).toMatchObject({
      PerformHPO: false,
      TrainingParameters: { context_length: '28', epochs: '50' },
      EvaluationParameters: { NumberOfBacktestWindows: 4, BackTestWindowOffset: 21 },
    });
  });

  it('reads accuracy metrics of each ACTIVE predictor into the slice (SUMMARY window, mean error metrics)', async () => {
    // Prepare
    predictorsRespond(() => 'ACTIVE');
    // Act
    const slice = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() });
    // Assess
    expect(slice[0]!.metrics).toEqual({
      rmse: 1.4,
      wape: 0.2,
      mape: 0.3,
      mase: 0.9,
      averageWeightedQuantileLoss: 0.075,
      weightedQuantileLosses: { '0.5': 0.1, '0.9': 0.05 },
    });
  });

  it('throws ResourcePending while any predictor trains, without reading metrics', async () => {
    // Prepare
    predictorsRespond((name) => (name === 'demo_CNNQR_2_hpo' ? 'CREATE_IN_PROGRESS' : 'ACTIVE'));
    // Act
    const error = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
    expect((error as Error).message).toContain('demo_CNNQR_2_hpo CREATE_IN_PROGRESS');
    expect(mock.commandCalls(GetAccuracyMetricsCommand)).toHaveLength(0);
  });

  it('marks a failed predictor failed with the service message and keeps the others (partial policy)', async () => {
    // Prepare
    predictorsRespond((name) => (name === 'demo_ETS_2' ? 'CREATE_FAILED' : 'ACTIVE'), 'Not enough data points');
    // Act
    const slice = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() });
    // Assess
    const ets = slice.find((p) => p.name === 'demo_ETS_2')!;
    expect(ets.status).toBe('CREATE_FAILED');
    expect(ets.message).toContain('Not enough data points');
    expect(ets.metrics).toBeUndefined();
    expect(slice.filter((p) => p.status === 'ACTIVE')).toHaveLength(3);
  });

  it('throws ResourceFailed with the messages when every predictor failed', async () => {
    // Prepare
    predictorsRespond(() => 'CREATE_FAILED', 'Horizon too long');
    // Act
    const error = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourceFailed);
    expect((error as Error).message).toContain('Horizon too long');
  });

  it('marks a predictor the service refuses (InvalidInputException) failed and trains the others', async () => {
    // Prepare
    predictorsRespond(() => 'ACTIVE');
    mock
      .on(CreatePredictorCommand, { PredictorName: 'demo_ETS_2' })
      .rejects(new InvalidInputException({ message: 'ForecastHorizon too long for ETS', $metadata: {} }));
    // Act
    const slice = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() });
    // Assess
    expect(slice[0]).toEqual({ name: 'demo_ETS_2', model: 'ETS', arn: '', status: 'CREATE_FAILED', message: 'demo_ETS_2 was refused: ForecastHorizon too long for ETS' });
    expect(slice.slice(1).every((p) => p.status === 'ACTIVE')).toBe(true);
  });

  it('finds predictors by name in the dataset group on redelivery', async () => {
    // Prepare
    predictorsRespond(() => 'ACTIVE');
    mock.on(CreatePredictorCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    mock.on(CreateAutoPredictorCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    mock.on(ListPredictorsCommand).resolves({
      Predictors: stateForPredictors().predictors.map((p) => ({ PredictorName: p.name, PredictorArn: arn('predictor', p.name) })),
    });
    // Act
    const slice = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() });
    // Assess
    expect(slice.map((p) => p.arn)).toEqual(stateForPredictors().predictors.map((p) => arn('predictor', p.name)));
    expect(mock.commandCalls(ListPredictorsCommand)[0]!.args[0].input.Filters).toEqual([
      { Key: 'DatasetGroupArn', Value: arn('dataset-group', 'demo_group'), Condition: 'IS' },
    ]);
  });

  it('waits (ResourcePending) for predictors over the concurrency quota while others train', async () => {
    // Prepare
    predictorsRespond(() => 'CREATE_IN_PROGRESS');
    mock.on(CreateAutoPredictorCommand).rejects(new LimitExceededException({ message: '3 concurrent', $metadata: {} }));
    mock.on(ListPredictorsCommand).resolves({ Predictors: [] });
    // Act
    const error = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
    expect((error as Error).message).toContain('demo_AUTOPREDICTOR_2 waiting for quota');
  });

  it('uses an existing predictor when its re-create is answered with LimitExceededException', async () => {
    // Prepare
    predictorsRespond(() => 'CREATE_IN_PROGRESS');
    mock.on(CreatePredictorCommand).rejects(new LimitExceededException({ message: '3 concurrent', $metadata: {} }));
    mock.on(CreateAutoPredictorCommand).rejects(new LimitExceededException({ message: '3 concurrent', $metadata: {} }));
    mock.on(ListPredictorsCommand).resolves({
      Predictors: stateForPredictors().predictors.map((p) => ({ PredictorName: p.name, PredictorArn: arn('predictor', p.name) })),
    });
    // Act
    const error = await createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourcePending);
    expect((error as Error).message).not.toContain('waiting for quota');
    expect(mock.commandCalls(DescribePredictorCommand)).toHaveLength(3);
  });

  it('rethrows LimitExceededException when only quota-blocked predictors remain (ASL backoff applies)', async () => {
    // Prepare
    mock.on(CreatePredictorCommand).rejects(new LimitExceededException({ message: 'quota', $metadata: {} }));
    mock.on(CreateAutoPredictorCommand).rejects(new LimitExceededException({ message: 'quota', $metadata: {} }));
    mock.on(ListPredictorsCommand).resolves({ Predictors: [] });
    // Act / Assess
    await expect(createPredictors(stateForPredictors(), { forecast: client, publishMetrics: vi.fn() })).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
  });

  it('rejects specs Forecast would refuse: AutoML with HPO, HPO on ETS', () => {
    const spec = pipelineState().predictors[0]!;
    expect(() => validatePredictorSpec({ ...spec, performAutoML: true, performHPO: true, algorithmArn: undefined })).toThrow(/PerformHPO=false/);
    expect(() => validatePredictorSpec({ ...spec, performHPO: true })).toThrow(/HPO applies only/);
  });
});

describe('toAccuracyMetrics', () => {
  it('returns undefined when Forecast reports no windows', () => {
    expect(toAccuracyMetrics({ PredictorEvaluationResults: [] })).toBeUndefined();
  });
});

describe('publishAccuracyMetrics', () => {
  it('writes EMF lines in namespace FORECAST with Algorithm (and Quantile for WQL) dimensions', () => {
    // Prepare
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const logSpy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    // Act
    try {
      publishAccuracyMetrics('ETS', toAccuracyMetrics(ACCURACY)!);
    } finally {
      spy.mockRestore();
      logSpy.mockRestore();
    }
    // Assess
    const emf = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('_aws')).map((l) => JSON.parse(l));
    const wql = emf.filter((e) => 'WQL' in e);
    expect(wql.map((e) => [e.Algorithm, e.Quantile, e.WQL])).toEqual([
      ['ETS', '0.5', 0.1],
      ['ETS', '0.9', 0.05],
    ]);
    expect(wql[0]._aws.CloudWatchMetrics[0].Namespace).toBe('FORECAST');
    expect(emf.find((e) => 'RMSE' in e)).toMatchObject({ Algorithm: 'ETS', RMSE: 1.4 });
    // Exactly the documented dimension sets: an alarm on [Algorithm] sees these metrics, and no
    // `service` dimension (Powertools' default) splits them into another metric.
    const dimensionSets = new Set(emf.map((e) => JSON.stringify(e._aws.CloudWatchMetrics[0].Dimensions)));
    expect([...dimensionSets].sort()).toEqual([JSON.stringify([['Algorithm']]), JSON.stringify([['Algorithm', 'Quantile']])].sort());
    expect(emf.some((e) => 'service' in e)).toBe(false);
  });
});

describe('Function: create-forecasts', () => {
  const deps = { forecast: client, settings: { forecastRoleArn: ROLE_ARN } };

  function forecastsRespond(forecastStatus: (name: string) => string, exportStatus: (name: string) => string) {
    mock.on(CreateForecastCommand).callsFake((input) => ({ ForecastArn: arn('forecast', input.ForecastName) }));
    mock.on(DescribeForecastCommand).callsFake((input) => ({ Status: forecastStatus(input.ForecastArn.split('/').pop()), Message: 'forecast broke' }));
    mock.on(CreateForecastExportJobCommand).callsFake((input) => ({ ForecastExportJobArn: arn('forecast-export-job', input.ForecastExportJobName) }));
    mock.on(DescribeForecastExportJobCommand).callsFake((input) => ({ Status: exportStatus(input.ForecastExportJobArn.split('/').pop()), Message: 'export broke' }));
  }

  it('creates a forecast per ACTIVE predictor and exports each into its own folder', async () => {
    // Prepare
    forecastsRespond(() => 'ACTIVE', () => 'ACTIVE');
    // Act
    const slice = await createForecasts(stateWithResults(), deps);
    // Assess
    expect(slice).toHaveLength(4);
    expect(slice[0]).toEqual({
      name: 'demo_ETS_2_forecast',
      predictorName: 'demo_ETS_2',
      model: 'ETS',
      arn: arn('forecast', 'demo_ETS_2_forecast'),
      exportJobArn: arn('forecast-export-job', 'demo_ETS_2_export'),
      exportS3Uri: 's3://data-bucket/demo/20240301/exports/demo_ETS_2_forecast/',
      status: 'ACTIVE',
    });
    expect(mock.commandCalls(CreateForecastCommand)[0]!.args[0].input).toEqual({
      ForecastName: 'demo_ETS_2_forecast',
      PredictorArn: arn('predictor', 'demo_ETS_2'),
      ForecastTypes: ['0.50', '0.90'],
    });
    expect(mock.commandCalls(CreateForecastExportJobCommand)[0]!.args[0].input).toMatchObject({
      Destination: { S3Config: { Path: 's3://data-bucket/demo/20240301/exports/demo_ETS_2_forecast/', RoleArn: ROLE_ARN } },
    });
  });

  it('skips forecasts of failed predictors', async () => {
    // Prepare
    forecastsRespond(() => 'ACTIVE', () => 'ACTIVE');
    const state = stateWithResults();
    state.results.predictors![0]!.status = 'CREATE_FAILED';
    // Act
    const slice = await createForecasts(state, deps);
    // Assess
    expect(slice.map((f) => f.model)).toEqual(['CNNQR', 'AUTOML', 'AUTOPREDICTOR']);
  });

  it('does not export before the forecast is ACTIVE (ResourcePending)', async () => {
    // Prepare
    forecastsRespond(() => 'CREATE_IN_PROGRESS', () => 'ACTIVE');
    // Act / Assess
    await expect(createForecasts(stateWithResults(), deps)).rejects.toBeInstanceOf(ResourcePending);
    expect(mock.commandCalls(CreateForecastExportJobCommand)).toHaveLength(0);
  });

  it('marks a model failed when its export failed, with the service message', async () => {
    // Prepare
    forecastsRespond(() => 'ACTIVE', (name) => (name === 'demo_AUTOML_2_export' ? 'CREATE_FAILED' : 'ACTIVE'));
    // Act
    const slice = await createForecasts(stateWithResults(), deps);
    // Assess
    expect(slice.find((f) => f.model === 'AUTOML')).toMatchObject({ status: 'CREATE_FAILED', message: expect.stringContaining('export broke') });
  });

  it('marks a forecast the service refuses failed and exports the others', async () => {
    // Prepare
    forecastsRespond(() => 'ACTIVE', () => 'ACTIVE');
    mock.on(CreateForecastCommand, { ForecastName: 'demo_ETS_2_forecast' }).rejects(new InvalidInputException({ message: 'bad types', $metadata: {} }));
    // Act
    const slice = await createForecasts(stateWithResults(), deps);
    // Assess
    expect(slice[0]).toMatchObject({ name: 'demo_ETS_2_forecast', status: 'CREATE_FAILED', arn: '', exportJobArn: '', message: expect.stringContaining('bad types') });
    expect(slice.filter((f) => f.status === 'ACTIVE')).toHaveLength(3);
  });

  it('throws ResourceFailed when every forecast failed', async () => {
    // Prepare
    forecastsRespond(() => 'CREATE_FAILED', () => 'ACTIVE');
    // Act / Assess
    await expect(createForecasts(stateWithResults(), deps)).rejects.toThrow(/forecast broke/);
  });

  it('finds forecasts and export jobs by name on redelivery', async () => {
    // Prepare
    forecastsRespond(() => 'ACTIVE', () => 'ACTIVE');
    const exists = new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} });
    mock.on(CreateForecastCommand).rejects(exists);
    mock.on(CreateForecastExportJobCommand).rejects(exists);
    mock.on(ListForecastsCommand).callsFake((input) => {
      const predictor = input.Filters[0].Value.split('/').pop();
      return { Forecasts: [{ ForecastName: `${predictor}_forecast`, ForecastArn: arn('forecast', `${predictor}_forecast`) }] };
    });
    mock.on(ListForecastExportJobsCommand).callsFake((input) => {
      const forecastName = input.Filters[0].Value.split('/').pop().replace(/_forecast$/, '');
      return { ForecastExportJobs: [{ ForecastExportJobName: `${forecastName}_export`, ForecastExportJobArn: arn('forecast-export-job', `${forecastName}_export`) }] };
    });
    // Act
    const slice = await createForecasts(stateWithResults(), deps);
    // Assess
    expect(slice.map((f) => f.exportJobArn)).toEqual(stateWithResults().predictors.map((p) => arn('forecast-export-job', `${p.name}_export`)));
  });
});
