/**
 * The value transform applied before Forecast and undone after it, in one place
 * (seed "Things to note" 1: log values so multiplicative seasonality cannot go negative).
 * parse applies `forward`, notify applies `inverse` of the *same* transform named in the state.
 */
export const TRANSFORMS = {
  log1p: { forward: (x: number) => Math.log1p(x), inverse: (y: number) => Math.expm1(y) },
  none: { forward: (x: number) => x, inverse: (y: number) => y },
} as const;
export type TransformName = keyof typeof TRANSFORMS;
export const TRANSFORM_NAMES = Object.keys(TRANSFORMS) as TransformName[];
