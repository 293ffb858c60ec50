import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateForecastCommand, CreatePredictorCommand, GetAccuracyMetricsCommand } from '@aws-sdk/client-forecast';
import { dailyCsv, describeForecast, describePredictor, engineFixture, importedGroup, waitFor, type EngineFixture } from './engine-helpers';

describe('Engine: every algorithm ARN trains through the client', () => {
  let fx: EngineFixture;
  let DatasetGroupArn: string;
  beforeAll(async () => {
    fx = await engineFixture({ workers: 2 });
    ({ DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b'], 56)));
  });
  afterAll(async () => fx.cleanup());

  it.each([
    ['ETS', {}],
    ['ARIMA', {}],
    ['NPTS', { kernel_type: 'uniform', use_seasonal_model: 'false', context_length: '28' }],
    ['Prophet', {}],
    // Global models, kept tiny here (one epoch); the product's defaults are in docs/models.md.
    ['CNN-QR', { epochs: '1', context_length: '7' }],
    ['Deep_AR_Plus', { epochs: '1', num_cells: '30', likelihood: 'gaussian' }],
  ])('%s with TrainingParameters %j ends ACTIVE with finite metrics', async (algorithm, TrainingParameters) => {
    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: `alg_${algorithm.replace('-', '')}`,
        AlgorithmArn: `arn:aws:forecast:::algorithm/${algorithm}`,
        ForecastHorizon: 7,
        TrainingParameters,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    const out = await waitFor(() => describePredictor(fx, PredictorArn!), 60_000);
    const metrics = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));

    // Assess
    expect(out).toMatchObject({ Status: 'ACTIVE', AlgorithmArn: `arn:aws:forecast:::algorithm/${algorithm}` });
    expect(out.Message, out.Message).toBeUndefined();
    expect(Number.isFinite(metrics.PredictorEvaluationResults![0]!.TestWindows![0]!.Metrics!.AverageWeightedQuantileLoss)).toBe(true);
  });

  it('CNN-QR with PerformHPO ends ACTIVE, keeps the search\'s choice in the predictor, and forecasts', async () => {
    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'alg_cnnqr_hpo',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR',
        PerformHPO: true,
        ForecastHorizon: 7,
        TrainingParameters: { epochs: '3' },
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    const out = await waitFor(() => describePredictor(fx, PredictorArn!), 60_000);

    const { ForecastArn } = await fx.engine.send(new CreateForecastCommand({ ForecastName: 'alg_cnnqr_hpo_forecast', PredictorArn }));
    const forecast = await waitFor(() => describeForecast(fx, ForecastArn!), 60_000);

    // Assess: the given epochs stay; the search may only have set context_length (its one parameter here).
    expect(out).toMatchObject({ Status: 'ACTIVE', AlgorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR', PerformHPO: true });
    const doc = (await fx.engine.listAll()).find((d) => d.arn === PredictorArn)!;
    const tuned = doc.result?.trainingParameters as Record<string, string>;
    expect(tuned.epochs).toBe('3');
    expect(Object.keys(tuned).every((k) => k === 'epochs' || k === 'context_length')).toBe(true);
    expect(forecast.Status).toBe('ACTIVE');
  });
});
