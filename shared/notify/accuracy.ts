/**
 * Realised accuracy: each model's forecasts against the validation actuals on the dates where both
 * exist, with the formulas Forecast uses for backtests (forecast-api.md, "Accuracy metrics"), pooled
 * over items and dates. The point forecast is `mean` when exported, else `p50`. MAPE skips y = 0.
 * A metric that is not a finite number is never written: `withoutNonFinite` leaves it out and counts it.
 */
import type { MetricRow } from '../warehouse/writers';
import { quantileOf } from './exports';

/** The metric row that counts the metrics of a model and source left out because they were not finite. */
export const NON_FINITE_METRIC = 'NON_FINITE_OMITTED';

/**
 * A sum of squares kept as scale² · sum (the way BLAS's nrm2 does it): squaring errors of 1e200 would
 * overflow to Infinity although their root mean square is an ordinary number.
 */
class SumOfSquares {
  private scale = 0;
  private sum = 0;

  add(x: number): void {
    const a = Math.abs(x);
    if (a === 0 || Number.isNaN(a)) {
      if (Number.isNaN(a)) this.sum = Number.NaN;
      return;
    }
    if (a > this.scale) {
      this.sum = 1 + this.sum * (this.scale / a) ** 2;
      this.scale = a;
    } else {
      this.sum += (a / this.scale) ** 2;
    }
  }

  /** √(Σx² / n). */
  rootMean(n: number): number {
    return this.scale === 0 ? 0 : this.scale * Math.sqrt(this.sum / n);
  }
}

/**
 * Leaves out every metric row whose value is not finite (an overflow, a division by nothing) and adds,
 * per model and source that lost any, one `NON_FINITE_OMITTED` row with how many were left out.
 */
export function withoutNonFinite(rows: readonly MetricRow[]): MetricRow[] {
  const kept: MetricRow[] = [];
  const omitted = new Map<string, MetricRow>();
  for (const row of rows) {
    if (Number.isFinite(row.value)) {
      kept.push(row);
      continue;
    }
    const key = `${row.model}\u0001${row.predictorName}\u0001${row.source}`;
    const counted = omitted.get(key);
    omitted.set(key, { model: row.model, predictorName: row.predictorName, source: row.source, metric: NON_FINITE_METRIC, forecastType: null, value: (counted?.value ?? 0) + 1 });
  }
  return [...kept, ...omitted.values()];
}

export class RealisedAccuracy {
  private readonly loss = new Map<string, number>();
  private sumAbsActual = 0;
  private sumAbsError = 0;
  private readonly squaredError = new SumOfSquares();
  private points = 0;
  private sumApe = 0;
  private apeCount = 0;

  add(actual: number, values: readonly (readonly [string, number | null])[]): void {
    let point: number | null | undefined;
    for (const [label, q] of values) {
      if (label === 'mean') point = q;
      if (q === null) continue;
      const tau = quantileOf(label);
      if (tau === undefined) continue;
      if (label === 'p50' && point === undefined) point = q;
      const loss = 2 * (tau * Math.max(actual - q, 0) + (1 - tau) * Math.max(q - actual, 0));
      this.loss.set(label, (this.loss.get(label) ?? 0) + loss);
    }
    this.sumAbsActual += Math.abs(actual);
    if (point !== undefined && point !== null) {
      const error = actual - point;
      this.sumAbsError += Math.abs(error);
      this.squaredError.add(error);
      this.points++;
      if (actual !== 0) {
        this.sumApe += Math.abs(error / actual);
        this.apeCount++;
      }
    }
  }

  get observations(): number {
    return this.points;
  }

  /** The realised metric rows; a non-finite one is left out and counted (`withoutNonFinite`). */
  rows(model: string, predictorName: string): MetricRow[] {
    if (this.points === 0 && this.loss.size === 0) return [];
    const base = { model, predictorName, source: 'REALISED' as const };
    const scale = this.sumAbsActual > 1e-12 ? this.sumAbsActual : 1;
    const rows: MetricRow[] = [];
    const wql = [...this.loss.entries()].map(([label, loss]) => [label, loss / scale] as const);
    for (const [label, value] of wql) rows.push({ ...base, metric: 'WQL', forecastType: label, value });
    if (wql.length > 0) rows.push({ ...base, metric: 'AVG_WQL', forecastType: null, value: wql.reduce((s, [, v]) => s + v, 0) / wql.length });
    if (this.points > 0) {
      if (this.sumAbsActual > 1e-12) rows.push({ ...base, metric: 'WAPE', forecastType: null, value: this.sumAbsError / this.sumAbsActual });
      rows.push({ ...base, metric: 'RMSE', forecastType: null, value: this.squaredError.rootMean(this.points) });
      if (this.apeCount > 0) rows.push({ ...base, metric: 'MAPE', forecastType: null, value: this.sumApe / this.apeCount });
      rows.push({ ...base, metric: 'OBSERVATIONS', forecastType: null, value: this.points });
    }
    return withoutNonFinite(rows);
  }
}
