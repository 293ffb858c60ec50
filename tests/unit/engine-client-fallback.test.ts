import { describe, expect, it } from 'vitest';
import { CreateForecastCommand, CreatePredictorCommand } from '@aws-sdk/client-forecast';
import { runFitTask } from '../../engine/forecast-series';
import { dailyCsv, describeForecast, describePredictor, importedGroup, useEngineFixture, waitFor } from './engine-helpers';

describe('Function: runFitTask', () => {
  it.each([
    [Float64Array.of(5, 6), /^ETS failed \(NotEnoughData: .*\)$/, [6, 6]],
    [Float64Array.of(5), /last value repeated$/, [5, 5]],
    [Float64Array.of(NaN, NaN), /no value observed$/, [NaN, NaN]],
  ])('falls back from ETS for %s', async (values, reason, mean) => {
    // Act
    const [result] = await runFitTask({ kind: 'fit', algorithm: 'ETS', params: {}, horizon: 2, quantiles: [0.1, 0.9], series: [{ values, seasonLength: 7 }] });

    // Assess
    expect(result!.fallback).toMatch(reason);
    expect(Array.from(result!.mean)).toEqual(mean);
    expect(result!.quantiles).toHaveLength(2);
  });
});

describe('Engine: per-series fallback in predictors', () => {
  const fx = useEngineFixture();

  it('stays ACTIVE, counts the series that fell back in Message, and still forecasts them', async () => {
    // Prepare: item "short" has only its last 5 days (ETS cannot fit 2 values before the backtest window)
    const csv = dailyCsv(['long', 'short'], 60, { skip: (item, d) => item === 'short' && d < 55 });
    const { DatasetGroupArn } = await importedGroup(fx, csv);

    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'fb',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
        ForecastHorizon: 3,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    const predictor = await waitFor(() => describePredictor(fx, PredictorArn!));
    const { ForecastArn } = await fx.engine.send(new CreateForecastCommand({ ForecastName: 'fb_f', PredictorArn }));
    const forecast = await waitFor(() => describeForecast(fx, ForecastArn!));

    // Assess
    expect(predictor.Status).toBe('ACTIVE');
    expect(predictor.Message).toMatch(/^1 of 2 series fell back to a simpler model \(e\.g\. short: ETS failed \(NotEnoughData/);
    expect(forecast.Status).toBe('ACTIVE');
  });
});
