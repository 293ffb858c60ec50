import { describe, expect, it } from 'vitest';
import { labelOf, listExportParts, readCsvRecords, readExportRows, RealisedAccuracy } from '../../shared/notify';
import { backtestMetricRows, causeMessage } from '../../shared/notify';
import { useTempFolderStore } from './temp-folder-store';

async function* bytes(...pieces: string[]): AsyncIterable<Uint8Array> {
  for (const p of pieces) yield Buffer.from(p, 'utf8');
}
async function records(...pieces: string[]): Promise<string[][]> {
  const out: string[][] = [];
  for await (const r of readCsvRecords(bytes(...pieces))) out.push(r);
  return out;
}

describe('Function: readCsvRecords', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, across chunk boundaries', async () => {
    expect(await records('a,"b,', '""c""\nd",e\r', '\nx,,\n\n"é",1')).toEqual([
      ['a', 'b,"c"\nd', 'e'],
      ['x', '', ''],
      ['é', '1'],
    ]);
  });
  it('handles a multi-byte character split between chunks', async () => {
    const euro = Buffer.from('€', 'utf8');
    async function* split(): AsyncIterable<Uint8Array> {
      yield Buffer.concat([Buffer.from('a,'), euro.subarray(0, 1)]);
      yield Buffer.concat([euro.subarray(1), Buffer.from('\n')]);
    }
    const out: string[][] = [];
    for await (const r of readCsvRecords(split())) out.push(r);
    expect(out).toEqual([['a', '€']]);
  });
});

describe('Function: listExportParts / readExportRows', () => {
  const tmp = useTempFolderStore('notify-parse-');
  const dir = 's3://b/shop/20240301/exports/shop_ETS_1_forecast/';

  it('reads every part of exactly this export: newest run of the job, in part order, no markers, no neighbours', async () => {
    // Prepare
    const job = 'shop_ETS_1_forecast_20240301';
    const header = 'item_id,store,date,p10,p50,mean\n';
    await tmp.store.put(`${dir}${job}_2024-03-01T10-00-00Z_part10.csv`, `${header}c,s1,2024-03-01T00:00:00Z,${Math.log1p(1)},${Math.log1p(2)},${Math.log1p(3)}\n`);
    await tmp.store.put(`${dir}${job}_2024-03-01T10-00-00Z_part2.csv`, `${header}"b,1",s1,2024-03-01T00:00:00Z,0,,0\n`);
    await tmp.store.put(`${dir}${job}_2024-03-01T10-00-00Z_part1.csv`, `${header}a,s2,2024-03-02T00:00:00Z,${Math.log1p(9)},${Math.log1p(10)},${Math.log1p(11)}\n`);
    await tmp.store.put(`${dir}${job}_2024-02-01T10-00-00Z_part0.csv`, `${header}old,s,2024-03-01T00:00:00Z,1,1,1\n`);
    await tmp.store.put(`${dir}_SUCCESS`, '');
    await tmp.store.put(`${dir}${job}_2024-03-01T10-00-00Z_CHECK`, '');
    await tmp.store.put('s3://b/shop/20240301/exports/shop_ETS_1_forecast_v2/x_part0.csv', `${header}n,s,2024-03-01T00:00:00Z,1,1,1\n`);
    await tmp.store.put(`${dir}nested/${job}_2024-03-01T10-00-00Z_part0.csv`, `${header}n,s,2024-03-01T00:00:00Z,1,1,1\n`);

    // Act
    const parts = await listExportParts(tmp.store, dir, job);
    const rows = [];
    for await (const r of readExportRows(tmp.store, parts, 'log1p')) rows.push(r);

    // Assess
    expect(parts.map((p) => p.slice(dir.length))).toEqual([1, 2, 10].map((n) => `${job}_2024-03-01T10-00-00Z_part${n}.csv`));
    expect(rows.map((r) => r.itemId)).toEqual(['a', 'b,1', 'c']);
    expect(rows[0]!.dimensions).toEqual({ store: 's2' });
    expect(rows[0]!.date.toISOString()).toBe('2024-03-02T00:00:00.000Z');
    const values = Object.fromEntries(rows[0]!.values);
    expect(Math.abs(values.p10! - 9)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(values.p50! - 10)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(values.mean! - 11)).toBeLessThanOrEqual(1e-9);
    expect(Object.fromEntries(rows[1]!.values)).toEqual({ p10: 0, p50: null, mean: 0 });
  });

  it('floors demand at zero and keeps quantiles in order (expm1 of a negative log-space p5 is −0.33), unless the run allows negative values', async () => {
    // Prepare: p5 below zero in log space, p50 above p90 (a crossing), mean negative
    const job = 'shop_PROPHET_1_forecast_20240301';
    await tmp.store.put(
      `${dir}${job}_2024-03-01T10-00-00Z_part0.csv`,
      `item_id,date,p5,p90,p50,mean\na,2024-03-01T00:00:00Z,${Math.log(0.67)},${Math.log1p(4)},${Math.log1p(6)},-0.5\n`,
    );
    const parts = await listExportParts(tmp.store, dir, job);

    // Act
    const read = async (nonNegative: boolean) => {
      const rows = [];
      for await (const r of readExportRows(tmp.store, parts, 'log1p', { nonNegative })) rows.push(r);
      return Object.fromEntries(rows[0]!.values);
    };
    const demand = await read(true);
    const signed = await read(false);

    // Assess
    expect(demand.p5).toBe(0);
    expect(Object.is(demand.p5, -0)).toBe(false);
    expect(demand.mean).toBe(0);
    expect(demand.p50).toBeCloseTo(4, 9);
    expect(demand.p90).toBeCloseTo(6, 9);
    expect(signed.p5).toBeCloseTo(-0.33, 9);
    expect(signed.mean).toBeCloseTo(Math.expm1(-0.5), 9);
    expect(signed.p50! <= signed.p90!).toBe(true);
  });

  it('names the file, line and column of a value that is not a number', async () => {
    // Prepare
    await tmp.store.put(`${dir}j_2024-03-01T10-00-00Z_part0.csv`, 'item_id,date,p50\na,2024-03-01T00:00:00Z,1\na,2024-03-02T00:00:00Z,abc\n');

    // Act
    const act = async () => {
      for await (const _ of readExportRows(tmp.store, await listExportParts(tmp.store, dir), 'log1p')) void _;
    };

    // Assess
    await expect(act()).rejects.toThrow(/part0\.csv line 3: p50 "abc" is not a number/);
  });
});

describe('metrics', () => {
  it('labels forecast types as the export does', () => {
    expect(['0.5', '0.50', '0.05', '0.99', 'mean'].map(labelOf)).toEqual(['p50', 'p50', 'p5', 'p99', 'mean']);
  });

  it('computes realised wQL, WAPE, RMSE and MAPE with Forecast formulas', () => {
    // Prepare: y = 10, 20; p50 = 12, 18; p90 = 15, 25
    const acc = new RealisedAccuracy();

    // Act
    acc.add(10, [['p50', 12], ['p90', 15]]);
    acc.add(20, [['p50', 18], ['p90', 25]]);
    const m = Object.fromEntries(acc.rows('ETS', 'p').map((r) => [`${r.metric}${r.forecastType ?? ''}`, r.value]));

    // Assess
    expect(m.WQLp50).toBeCloseTo((2 * (0.5 * 2 + 0.5 * 2)) / 30, 12);
    expect(m.WQLp90).toBeCloseTo((2 * (0.1 * 5 + 0.1 * 5)) / 30, 12);
    expect(m.WAPE).toBeCloseTo(4 / 30, 12);
    expect(m.RMSE).toBeCloseTo(2, 12);
    expect(m.MAPE).toBeCloseTo((0.2 + 0.1) / 2, 12);
    expect(m.OBSERVATIONS).toBe(2);
  });

  it('keeps realised RMSE finite for extreme values whose squares overflow', () => {
    // Prepare: errors of 2e200 (their squares, 4e400, are beyond a double)
    const acc = new RealisedAccuracy();

    // Act
    acc.add(1e200, [['p50', -1e200]]);
    acc.add(1e200, [['p50', 3e200]]);
    const m = Object.fromEntries(acc.rows('ETS', 'p').map((r) => [`${r.metric}${r.forecastType ?? ''}`, r.value]));

    // Assess
    expect(m.RMSE).toBeCloseTo(2e200, -190);
    expect(m.WAPE).toBeCloseTo(2, 12);
    expect(m.NON_FINITE_OMITTED).toBeUndefined();
  });

  it('never writes a non-finite realised metric: it is left out and counted', () => {
    // Prepare: an error beyond a double (1.7e308 - -1.7e308 = Infinity)
    const acc = new RealisedAccuracy();

    // Act
    acc.add(1.7e308, [['p50', -1.7e308], ['p90', -1.7e308]]);
    const rows = acc.rows('ETS', 'p');

    // Assess
    expect(rows.every((r) => Number.isFinite(r.value))).toBe(true);
    const m = Object.fromEntries(rows.map((r) => [`${r.metric}${r.forecastType ?? ''}`, r.value]));
    expect(m.RMSE).toBeUndefined();
    expect(m.WAPE).toBeUndefined();
    expect(m.OBSERVATIONS).toBe(1);
    // RMSE, WAPE, MAPE, WQL p50, WQL p90 and their average
    expect(m.NON_FINITE_OMITTED).toBe(6);
    expect(rows.find((r) => r.metric === 'NON_FINITE_OMITTED')).toMatchObject({ model: 'ETS', predictorName: 'p', source: 'REALISED', forecastType: null });
  });

  it('turns backtest metrics of ACTIVE predictors into tidy rows', () => {
    const rows = backtestMetricRows({
      results: {
        predictors: [
          { name: 'p1', model: 'ETS', arn: 'a', status: 'ACTIVE', metrics: { rmse: 1, wape: null, mape: 0.1, mase: 0.5, averageWeightedQuantileLoss: 0.2, weightedQuantileLosses: { '0.5': 0.2 } } },
          { name: 'p2', model: 'NPTS', arn: 'b', status: 'CREATE_FAILED' },
        ],
      },
    } as never);
    expect(rows.map((r) => `${r.model}:${r.metric}:${r.forecastType ?? ''}=${r.value}`)).toEqual(['ETS:WQL:p50=0.2', 'ETS:AVG_WQL:=0.2', 'ETS:RMSE:=1', 'ETS:MAPE:=0.1', 'ETS:MASE:=0.5']);
  });

  it('leaves a non-finite backtest metric out and counts it', () => {
    const rows = backtestMetricRows({
      results: {
        predictors: [{ name: 'p1', model: 'ETS', arn: 'a', status: 'ACTIVE', metrics: { rmse: Infinity, wape: 0.1, mape: Number.NaN, mase: null, averageWeightedQuantileLoss: 0.2, weightedQuantileLosses: { '0.5': Infinity } } }],
      },
    } as never);
    expect(rows.map((r) => `${r.metric}:${r.forecastType ?? ''}=${r.value}`)).toEqual(['AVG_WQL:=0.2', 'WAPE:=0.1', 'NON_FINITE_OMITTED:=3']);
  });

  it('reads the message out of a Lambda error cause', () => {
    expect(causeMessage('{"errorType":"X","errorMessage":"boom"}')).toBe('boom');
    expect(causeMessage('plain')).toBe('plain');
  });
});
