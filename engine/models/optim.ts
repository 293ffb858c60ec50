/**
 * Nelder–Mead minimiser (the method R's `optim` uses for `forecast::ets`), with one step
 * size per coordinate and all work arrays allocated once per call. The objective may
 * return `Infinity` for inadmissible points (as R's ets likelihood does).
 */
export interface NelderMeadOptions {
  /** Initial simplex offset per coordinate. */
  readonly steps: Float64Array;
  /** Maximum number of objective evaluations. */
  readonly maxEvaluations: number;
  /** Stop when (f_worst − f_best) ≤ tolerance · (|f_best| + tolerance). */
  readonly tolerance: number;
  /** Also stop when f_worst − f_best ≤ this absolute amount. Default 0. */
  readonly absoluteTolerance?: number;
}

export interface NelderMeadResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly evaluations: number;
}

export function nelderMead(
  objective: (x: Float64Array) => number,
  start: Float64Array,
  options: NelderMeadOptions,
): NelderMeadResult {
  const d = start.length;
  const n1 = d + 1;
  const simplex = new Float64Array(n1 * d);
  const values = new Float64Array(n1);
  const centroid = new Float64Array(d);
  const trial = new Float64Array(d);
  const trial2 = new Float64Array(d);
  let evaluations = 0;
  const evaluate = (x: Float64Array) => {
    evaluations++;
    const v = objective(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  const vertex = (i: number) => simplex.subarray(i * d, (i + 1) * d);

  simplex.set(start, 0);
  values[0] = evaluate(vertex(0));
  for (let i = 1; i < n1; i++) {
    const v = vertex(i);
    v.set(start);
    v[i - 1] = v[i - 1]! + options.steps[i - 1]!;
    values[i] = evaluate(v);
    if (values[i] === Infinity) {
      // Try the other direction before giving up on this vertex.
      v[i - 1] = start[i - 1]! - options.steps[i - 1]!;
      values[i] = evaluate(v);
    }
  }

  while (evaluations < options.maxEvaluations) {
    // Order: find best, worst, second worst.
    let best = 0;
    let worst = 0;
    for (let i = 1; i < n1; i++) {
      if (values[i]! < values[best]!) best = i;
      if (values[i]! > values[worst]!) worst = i;
    }
    let second = best;
    for (let i = 0; i < n1; i++) if (i !== worst && values[i]! > values[second]!) second = i;
    const fBest = values[best]!;
    const fWorst = values[worst]!;
    if (
      Number.isFinite(fWorst) &&
      (fWorst - fBest <= options.tolerance * (Math.abs(fBest) + options.tolerance) || fWorst - fBest <= (options.absoluteTolerance ?? 0))
    ) {
      break;
    }

    centroid.fill(0);
    for (let i = 0; i < n1; i++) {
      if (i === worst) continue;
      const off = i * d;
      for (let j = 0; j < d; j++) centroid[j] = centroid[j]! + simplex[off + j]!;
    }
    for (let j = 0; j < d; j++) centroid[j] = centroid[j]! / d;
    const wOff = worst * d;
    // Reflection.
    for (let j = 0; j < d; j++) trial[j] = 2 * centroid[j]! - simplex[wOff + j]!;
    const fR = evaluate(trial);
    if (fR < fBest) {
      for (let j = 0; j < d; j++) trial2[j] = 3 * centroid[j]! - 2 * simplex[wOff + j]!;
      const fE = evaluate(trial2);
      if (fE < fR) {
        simplex.set(trial2, wOff);
        values[worst] = fE;
      } else {
        simplex.set(trial, wOff);
        values[worst] = fR;
      }
      continue;
    }
    if (fR < values[second]!) {
      simplex.set(trial, wOff);
      values[worst] = fR;
      continue;
    }
    // Contraction (outside if the reflection improved on the worst, inside otherwise).
    const outside = fR < fWorst;
    for (let j = 0; j < d; j++) {
      trial2[j] = outside ? 1.5 * centroid[j]! - 0.5 * simplex[wOff + j]! : 0.5 * centroid[j]! + 0.5 * simplex[wOff + j]!;
    }
    const fC = evaluate(trial2);
    if (fC < (outside ? fR : fWorst)) {
      simplex.set(trial2, wOff);
      values[worst] = fC;
      continue;
    }
    // Shrink towards the best vertex.
    const bOff = best * d;
    for (let i = 0; i < n1; i++) {
      if (i === best) continue;
      const off = i * d;
      for (let j = 0; j < d; j++) simplex[off + j] = simplex[bOff + j]! + 0.5 * (simplex[off + j]! - simplex[bOff + j]!);
      values[i] = evaluate(vertex(i));
    }
  }
  let best = 0;
  for (let i = 1; i < n1; i++) if (values[i]! < values[best]!) best = i;
  return { x: Float64Array.from(vertex(best)), value: values[best]!, evaluations };
}
