import { describe, expect, it } from 'vitest';
import {
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  GetAccuracyMetricsCommand,
} from '@aws-sdk/client-forecast';
import { dailyCsv, describeExport, describeForecast, describePredictor, importedGroup, useEngineFixture, waitFor } from './engine-helpers';

describe('Engine: lifecycle from import to export', () => {
  const fx = useEngineFixture();

  it('trains NPTS, forecasts and exports with pending → active transitions', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b', 'c'], 60));
    await fx.engine.idle(); // the import job's own final event is out before the listener below
    const progress: number[] = [];
    const finished: string[] = [];
    fx.engine.onProgress((e) => {
      progress.push(e.done);
      if (e.status) finished.push(`${e.type}:${e.status}`);
    });

    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'demo_NPTS_1',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/NPTS',
        ForecastHorizon: 7,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
        EvaluationParameters: { NumberOfBacktestWindows: 2, BackTestWindowOffset: 7 },
      }),
    );
    const first = await describePredictor(fx, PredictorArn!);
    const trained = await waitFor(() => describePredictor(fx, PredictorArn!));
    const metrics = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));
    const { ForecastArn } = await fx.engine.send(new CreateForecastCommand({ ForecastName: 'demo_NPTS_1_forecast', PredictorArn, ForecastTypes: ['0.1', '0.5', 'mean'] }));
    const forecast = await waitFor(() => describeForecast(fx, ForecastArn!));
    const { ForecastExportJobArn } = await fx.engine.send(
      new CreateForecastExportJobCommand({
        ForecastExportJobName: 'demo_export',
        ForecastArn,
        Destination: { S3Config: { Path: 's3://bucket/demo/exports/demo_NPTS_1_forecast/', RoleArn: 'arn:aws:iam::000000000000:role/x' } },
      }),
    );
    const exported = await waitFor(() => describeExport(fx, ForecastExportJobArn!));
    const files = (await fx.store.list('s3://bucket/demo/exports/demo_NPTS_1_forecast/')).map((o) => o.uri.split('/').pop());

    // Assess
    expect(first.Status).toBe('CREATE_PENDING');
    expect(trained).toMatchObject({ Status: 'ACTIVE' });
    expect(metrics.PredictorEvaluationResults![0]!.TestWindows!.map((w) => w.EvaluationType)).toEqual(['SUMMARY', 'COMPUTED', 'COMPUTED']);
    expect(forecast).toMatchObject({ Status: 'ACTIVE', DatasetGroupArn, PredictorArn, ForecastTypes: ['0.1', '0.5', 'mean'] });
    expect(exported.Status).toBe('ACTIVE');
    expect(files).toEqual(expect.arrayContaining(['_CHECK', '_SUCCESS']));
    expect(files.filter((f) => /^demo_export_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z_part0\.csv$/.test(f!))).toHaveLength(1);
    expect(progress.at(-1)).toBeGreaterThan(0);
    expect(finished).toEqual(['predictor:ACTIVE', 'forecast:ACTIVE', 'forecast-export-job:ACTIVE']);
  });
});
