/**
 * The value transform applied before Forecast and undone after it, in one place
 * (seed "Things to note" 1: log values so multiplicative seasonality cannot go negative).
 * parse applies `forward`, notify applies `inverse` of the *same* transform named in the state,
 * through `forecastInverse`, which also keeps demand forecasts at or above zero and their
 * quantiles in order.
 */
export const TRANSFORMS = {
  log1p: { forward: (x: number) => Math.log1p(x), inverse: (y: number) => Math.expm1(y) },
  none: { forward: (x: number) => x, inverse: (y: number) => y },
} as const;
export type TransformName = keyof typeof TRANSFORMS;
export const TRANSFORM_NAMES = Object.keys(TRANSFORMS) as TransformName[];

export interface ForecastInverseOptions {
  /**
   * Demand cannot be negative (the default): a value below zero becomes 0. A model's log-space
   * quantile below 0 (expm1 → down to −1) or a Gaussian interval around a small mean would
   * otherwise publish negative demand. Series that may be negative (the message's
   * `AllowNegative`) keep their values.
   */
  readonly nonNegative: boolean;
  /** The quantile level of each value of a row (undefined for `mean`), in the row's column order. */
  readonly quantiles: readonly (number | undefined)[];
}

/**
 * One forecast row (one item and date, one value per forecast type) back in real units: the
 * inverse transform, then the floor at zero, then the quantiles re-ordered so a lower quantile is
 * never above a higher one (rearrangement: the row's quantile values sorted and given to the levels
 * in ascending order; a crossing can come from independent per-quantile models or from the
 * floor itself). Missing values (null) stay missing and take no part in the ordering.
 */
export function forecastInverse(transform: TransformName, options: ForecastInverseOptions): (row: readonly (number | null)[]) => (number | null)[] {
  const inverse = TRANSFORMS[transform].inverse;
  const levels = options.quantiles
    .map((level, index) => ({ level, index }))
    .filter((q): q is { level: number; index: number } => q.level !== undefined)
    .sort((a, b) => a.level - b.level)
    .map((q) => q.index);
  const nonNegative = options.nonNegative;
  return (row) => {
    const out: (number | null)[] = new Array(row.length);
    for (let i = 0; i < row.length; i++) {
      const y = row[i]!;
      if (y === null) {
        out[i] = null;
        continue;
      }
      const x = inverse(y);
      // `+ 0` turns −0 into 0: a floored value must not print as "-0".
      out[i] = nonNegative && !(x > 0) ? 0 : x + 0;
    }
    // Rows are almost always in order already: rearrange only when a quantile crosses a lower one.
    let previous = -Infinity;
    let crossed = false;
    for (const i of levels) {
      const v = out[i];
      if (v === null) continue;
      if (v! < previous) {
        crossed = true;
        break;
      }
      previous = v!;
    }
    if (crossed) {
      const present = levels.filter((i) => out[i] !== null);
      const sorted = present.map((i) => out[i]!).sort((a, b) => a - b);
      present.forEach((i, k) => (out[i] = sorted[k]!));
    }
    return out;
  };
}
