/**
 * Realised accuracy: each model's forecasts against the validation actuals on the dates where both
 * exist, with the formulas Forecast uses for backtests (forecast-api.md, "Accuracy metrics"), pooled
 * over items and dates. The point forecast is `mean` when exported, else `p50`. MAPE skips y = 0.
 */
import type { MetricRow } from '../warehouse/writers';
import { quantileOf } from './exports';

export class RealisedAccuracy {
  private readonly loss = new Map<string, number>();
  private sumAbsActual = 0;
  private sumAbsError = 0;
  private sumSquaredError = 0;
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
      this.sumSquaredError += error * error;
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
      rows.push({ ...base, metric: 'RMSE', forecastType: null, value: Math.sqrt(this.sumSquaredError / this.points) });
      if (this.apeCount > 0) rows.push({ ...base, metric: 'MAPE', forecastType: null, value: this.sumApe / this.apeCount });
      rows.push({ ...base, metric: 'OBSERVATIONS', forecastType: null, value: this.points });
    }
    return rows;
  }
}
