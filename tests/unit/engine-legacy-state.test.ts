/**
 * Engine state of versions before item partitions: an import's one `data.bin`, a predictor's one
 * `series.bin`, a forecast's one `predictions.bin` are read as one partition / unit each.
 */
import { describe, expect, it } from 'vitest';
import { CreateForecastCommand, CreateForecastExportJobCommand, CreatePredictorCommand, GetAccuracyMetricsCommand } from '@aws-sdk/client-forecast';
import { readUnit, importManifest } from '../../engine/partitions';
import { Repository } from '../../engine/repository';
import { serializeImported } from '../../engine/series';
import { dailyCsv, describeExport, describeForecast, describePredictor, expectClose, importedGroup, useEngineFixture, waitFor } from './engine-helpers';

const STATE = 's3://bucket/.engine';

describe('Engine: state written before item partitions', () => {
  const fx = useEngineFixture();

  async function predictor(DatasetGroupArn: string, name: string) {
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: name,
        AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
        ForecastHorizon: 5,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D' },
      }),
    );
    expect((await waitFor(() => describePredictor(fx, PredictorArn!))).Status).toBe('ACTIVE');
    return PredictorArn!;
  }

  async function forecastRows(PredictorArn: string, name: string, legacyForecast = false): Promise<string[]> {
    const { ForecastArn } = await fx.engine.send(new CreateForecastCommand({ ForecastName: name, PredictorArn }));
    expect((await waitFor(() => describeForecast(fx, ForecastArn!))).Status).toBe('ACTIVE');
    if (legacyForecast) {
      await new Repository(fx.store, STATE).update(ForecastArn!, (d) => {
        const { predictionsParts, ...rest } = d.result!;
        d.result = { ...rest, predictionsUri: (predictionsParts as string[])[0] };
      });
    }
    const path = `s3://bucket/out/${name}/`;
    const { ForecastExportJobArn } = await fx.engine.send(
      new CreateForecastExportJobCommand({ ForecastExportJobName: `${name}_e`, ForecastArn, Destination: { S3Config: { Path: path, RoleArn: 'r' } } }),
    );
    expect((await waitFor(() => describeExport(fx, ForecastExportJobArn!))).Status).toBe('ACTIVE');
    const parts = (await fx.store.list(path)).filter((o) => o.uri.endsWith('.csv'));
    return (await Promise.all(parts.map(async (p) => (await fx.store.get(p.uri)).toString('utf8').trim().split('\n').slice(1)))).flat();
  }

  it('trains on an import stored as one data.bin, forecasts from a series.bin and exports a predictions.bin', async () => {
    // Prepare: a predictor on the partitioned import, then the import rewritten as an earlier version stored it
    const { DatasetGroupArn, DatasetImportJobArn } = await importedGroup(fx, dailyCsv(['a', 'b', 'c'], 60));
    const current = await predictor(DatasetGroupArn, 'current');
    const repo = new Repository(fx.store, STATE);
    const job = (await repo.get(DatasetImportJobArn))!;
    const manifest = await importManifest(fx.store, job.result!);
    const dataUri = `${STATE}/data/dataset-import-job/legacy/data.bin`;
    await fx.store.put(dataUri, serializeImported(await readUnit(fx.store, [manifest], 0, 1)));
    await repo.update(DatasetImportJobArn, (d) => {
      d.result = { dataUri, rowCount: manifest.rowCount, itemCount: manifest.itemCount, dataSize: 0 };
    });
    for (const p of manifest.partitions) await fx.store.delete(p.uri);

    // Act
    const legacy = await predictor(DatasetGroupArn, 'legacy');
    const expectedRows = await forecastRows(current, 'from_parts');
    await repo.update(legacy, (d) => {
      const { seriesParts, ...rest } = d.result!;
      d.result = { ...rest, seriesUri: (seriesParts as string[])[0] };
    });
    const legacyRows = await forecastRows(legacy, 'from_series_bin', true);

    // Assess
    const metrics = async (PredictorArn: string) => (await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }))).PredictorEvaluationResults;
    expectClose(await metrics(legacy), await metrics(current));
    expect(legacyRows).toEqual(expectedRows);
    expect(legacyRows).toHaveLength(3 * 5);
  }, 60_000);
});
