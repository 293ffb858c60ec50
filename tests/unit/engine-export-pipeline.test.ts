import { describe, expect, it } from 'vitest';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  DescribeDatasetImportJobCommand,
} from '@aws-sdk/client-forecast';
import { dailyCsv, describeExport, describeForecast, describePredictor, importedGroup, useEngineFixture, waitFor } from './engine-helpers';

describe('Engine: forecasts exported through the client', () => {
  const fx = useEngineFixture({ exportPartRows: 5 });

  async function exportOf(PredictorArn: string, name: string, ForecastTypes?: string[]) {
    const { ForecastArn } = await fx.engine.send(new CreateForecastCommand({ ForecastName: `${name}_f`, PredictorArn, ForecastTypes }));
    expect((await waitFor(() => describeForecast(fx, ForecastArn!))).Status).toBe('ACTIVE');
    const path = `s3://bucket/out/${name}/`;
    const { ForecastExportJobArn } = await fx.engine.send(
      new CreateForecastExportJobCommand({ ForecastExportJobName: `${name}_e`, ForecastArn, Destination: { S3Config: { Path: path, RoleArn: 'r' } } }),
    );
    expect((await waitFor(() => describeExport(fx, ForecastExportJobArn!))).Status).toBe('ACTIVE');
    const objects = (await fx.store.list(path)).map((o) => o.uri);
    const parts = objects.filter((u) => u.endsWith('.csv'));
    const lines = (await Promise.all(parts.map(async (u) => (await fx.store.get(u)).toString('utf8').trim().split('\n')))).flatMap((l) => l.slice(1));
    const headers = await Promise.all(parts.map(async (u) => (await fx.store.get(u)).toString('utf8').split('\n')[0]));
    return { objects, parts, lines, headers };
  }

  it('aggregates daily data to weekly forecasts dated on Mondays, in several parts', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b'], 140));
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'weekly',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
        ForecastHorizon: 4,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'W' },
      }),
    );
    expect((await waitFor(() => describePredictor(fx, PredictorArn!))).Status).toBe('ACTIVE');

    // Act
    const { objects, parts, lines, headers } = await exportOf(PredictorArn!, 'weekly', ['0.5', 'mean']);

    // Assess
    expect(parts).toHaveLength(2);
    expect(objects.filter((u) => /\/_(CHECK|SUCCESS)$/.test(u))).toHaveLength(2);
    expect(new Set(headers)).toEqual(new Set(['item_id,date,p50,mean']));
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(new Date(line.split(',')[1]!).getUTCDay()).toBe(1);
  });

  it('keeps forecast dimensions as columns after item_id', async () => {
    // Prepare
    const rows: string[] = [];
    for (const store of ['north', 'south']) for (let d = 0; d < 40; d++) rows.push(`a,${store},${new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10)},${store === 'north' ? 10 + (d % 7) : 100 + (d % 7)}`);
    await fx.store.put('s3://bucket/dims/target.csv', rows.join('\n'));
    const { DatasetArn } = await fx.engine.send(
      new CreateDatasetCommand({
        DatasetName: 'dims_TARGET',
        Domain: 'CUSTOM',
        DatasetType: 'TARGET_TIME_SERIES',
        DataFrequency: 'D',
        Schema: {
          Attributes: [
            { AttributeName: 'item_id', AttributeType: 'string' },
            { AttributeName: 'store', AttributeType: 'string' },
            { AttributeName: 'timestamp', AttributeType: 'timestamp' },
            { AttributeName: 'target_value', AttributeType: 'float' },
          ],
        },
      }),
    );
    const { DatasetGroupArn } = await fx.engine.send(new CreateDatasetGroupCommand({ DatasetGroupName: 'dims', Domain: 'CUSTOM', DatasetArns: [DatasetArn!] }));
    const { DatasetImportJobArn } = await fx.engine.send(
      new CreateDatasetImportJobCommand({ DatasetImportJobName: 'i', DatasetArn, DataSource: { S3Config: { Path: 's3://bucket/dims/target.csv', RoleArn: 'r' } }, TimestampFormat: 'yyyy-MM-dd' }),
    );
    expect((await waitFor(() => fx.engine.send(new DescribeDatasetImportJobCommand({ DatasetImportJobArn })))).Status).toBe('ACTIVE');
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'dims',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/NPTS',
        ForecastHorizon: 2,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'D', ForecastDimensions: ['store'] },
      }),
    );
    expect((await waitFor(() => describePredictor(fx, PredictorArn!))).Status).toBe('ACTIVE');

    // Act
    const { lines, headers } = await exportOf(PredictorArn!, 'dims');

    // Assess
    expect(headers[0]).toBe('item_id,store,date,p10,p50,p90');
    expect(lines.map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'a,north,2024-02-10T00:00:00Z',
      'a,north,2024-02-11T00:00:00Z',
      'a,south,2024-02-10T00:00:00Z',
      'a,south,2024-02-11T00:00:00Z',
    ]);
    const south = lines.filter((l) => l.includes('south')).map((l) => Number(l.split(',')[4]));
    for (const p50 of south) expect(p50).toBeGreaterThanOrEqual(100);
  });

  it('fails the predictor with a message when the forecast frequency is finer than the data', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));

    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand({
        PredictorName: 'hourly',
        AlgorithmArn: 'arn:aws:forecast:::algorithm/NPTS',
        ForecastHorizon: 2,
        InputDataConfig: { DatasetGroupArn },
        FeaturizationConfig: { ForecastFrequency: 'H' },
      }),
    );
    const out = await waitFor(() => describePredictor(fx, PredictorArn!));

    // Assess
    expect(out).toMatchObject({ Status: 'CREATE_FAILED', Message: 'The forecast frequency H is finer than the data frequency D of demo_TARGET' });
  });
});
