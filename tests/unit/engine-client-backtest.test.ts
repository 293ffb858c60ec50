import { describe, expect, it } from 'vitest';
import { CreatePredictorCommand, GetAccuracyMetricsCommand } from '@aws-sdk/client-forecast';
import { windowStarts } from '../../engine/training';
import { dailyCsv, describePredictor, importedGroup, useEngineFixture, waitFor } from './engine-helpers';

describe('Function: windowStarts', () => {
  it('places the first window offset periods before the end and steps back by the offset', () => {
    // Act & Assess
    expect(windowStarts(100, 10, 10, 3)).toEqual([90, 80, 70]);
    expect(windowStarts(100, 10, 20, 2)).toEqual([80, 60]);
  });

  it('enforces horizon ≤ offset < ½ length and enough data for every window', () => {
    // Act & Assess
    expect(() => windowStarts(100, 10, 9, 1)).toThrow(/ForecastHorizon \(10\) ≤ offset/);
    expect(() => windowStarts(100, 10, 50, 1)).toThrow(/< ½ · dataset length \(100\)/);
    expect(() => windowStarts(100, 10, 40, 3)).toThrow(/3 backtest windows with offset 40/);
  });
});

describe('Engine: GetAccuracyMetrics', () => {
  const fx = useEngineFixture();

  it('returns SUMMARY and COMPUTED windows shaped like the service, scoring observed values only', async () => {
    // Prepare: 60 days from 2024-01-01; item b stops 7 days before the end (backfilled, never scored)
    const csv = dailyCsv(['a', 'b'], 60, { skip: (item, d) => item === 'b' && d >= 53 });
    const { DatasetGroupArn } = await importedGroup(fx, csv);
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'bt',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/NPTS',
        ForecastHorizon: 7,
        ForecastTypes: ['0.1', '0.5', '0.9'],
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
        EvaluationParameters: { NumberOfBacktestWindows: 2, BackTestWindowOffset: 7 },
      }),
    );
    await waitFor(() => describePredictor(fx, PredictorArn!));

    // Act
    const out = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));
    const [result] = out.PredictorEvaluationResults!;
    const [summary, recent, earlier] = result!.TestWindows!;

    // Assess
    expect(out.IsAutoPredictor).toBe(false);
    expect(result!.AlgorithmArn).toBe('arn:aws:forecast:::algorithm/NPTS');
    expect(summary!.EvaluationType).toBe('SUMMARY');
    expect(recent).toMatchObject({
      EvaluationType: 'COMPUTED',
      TestWindowStart: new Date('2024-02-23T00:00:00Z'),
      TestWindowEnd: new Date('2024-03-01T00:00:00Z'),
      ItemCount: 1,
    });
    expect(earlier).toMatchObject({ TestWindowStart: new Date('2024-02-16T00:00:00Z'), ItemCount: 2 });
    expect(recent!.Metrics!.WeightedQuantileLosses!.map((l) => l.Quantile)).toEqual([0.1, 0.5, 0.9]);
    expect(recent!.Metrics!.ErrorMetrics!.map((e) => e.ForecastType)).toEqual(['mean', '0.1', '0.5', '0.9']);
    for (const key of ['WAPE', 'RMSE', 'MASE', 'MAPE'] as const) expect(typeof recent!.Metrics!.ErrorMetrics![0]![key]).toBe('number');
    const avg = recent!.Metrics!.WeightedQuantileLosses!.reduce((s, l) => s + l.LossValue!, 0) / 3;
    expect(recent!.Metrics!.AverageWeightedQuantileLoss).toBeCloseTo(avg, 10);
    expect(summary!.Metrics!.RMSE).toBeCloseTo((recent!.Metrics!.RMSE! + earlier!.Metrics!.RMSE!) / 2, 10);
  });

  it('chooses one algorithm for the dataset with PerformAutoML and reports every candidate', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b'], 50));

    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'automl',
        PerformAutoML: true,
        ForecastHorizon: 5,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    const described = await waitFor(() => describePredictor(fx, PredictorArn!), 60_000);
    const metrics = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));
    const losses = metrics.PredictorEvaluationResults!.map((r) => [r.AlgorithmArn, r.TestWindows![0]!.Metrics!.AverageWeightedQuantileLoss!] as const);
    const best = [...losses].sort((x, y) => x[1] - y[1])[0]![0];

    // Assess
    expect(described.Status).toBe('ACTIVE');
    expect(losses.length).toBeGreaterThanOrEqual(2);
    expect((described as { AlgorithmArn?: string }).AlgorithmArn).toBe(best);
  });
});
