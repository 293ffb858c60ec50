/**
 * Seasonal ARIMA like R `forecast::auto.arima` / `stats::arima`:
 * - the series is differenced (`(1−B)^d (1−B^s)^D`) and an ARMA(p,q)(P,Q)_s with an optional
 *   constant (mean when d+D = 0, drift when d+D = 1) is fitted to the differenced series;
 * - conditional sum of squares (CSS) by Levenberg–Marquardt from Hannan–Rissanen starts, and exact
 *   Gaussian maximum likelihood by a Kalman filter started from the CSS estimates (R's `CSS-ML`;
 *   stationary initial covariance by the doubling algorithm, O(r) steady-state recursion once the
 *   filter has converged);
 * - order selection: KPSS tests for d, seasonal strength > 0.64 for D, stepwise search over
 *   (p,q,P,Q) and the constant by AICc, with R's starting models, moves and root checks. Short
 *   series (n ≤ 150, m ≤ 12) are searched by ML, as R; longer ones by CSS (R's approximation),
 *   on the last max(300, 30m) points (R's `truncate`), and the chosen model is then refined by
 *   CSS on the whole series (default) or refitted by ML (`finalMethod: 'ML'`, R's choice);
 * - forecasts from the state at the end of the data, variances from the ψ-weights of the full
 *   (differenced) model → Gaussian quantiles.
 */
import { cleanSeries, gaussianQuantiles, seasonalIndices } from './quantiles';
import { InvalidModelSpec, NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

/** Orders of a seasonal ARIMA(p,d,q)(P,D,Q)[s]. */
export interface ArimaOrder {
  readonly p: number;
  readonly d: number;
  readonly q: number;
  readonly P?: number;
  readonly D?: number;
  readonly Q?: number;
  /** Season length; defaults to the series' season length. */
  readonly s?: number;
}

export interface FixedArimaOptions extends ArimaOrder {
  /** Include a mean (d+D = 0) or drift (d+D = 1). Default: mean when d+D = 0, as R `Arima`. */
  readonly constant?: boolean;
  /** `ML` (CSS start, exact ML; R's CSS-ML) or `CSS`. Default `ML`. */
  readonly method?: 'ML' | 'CSS';
}

export interface ArimaOptions {
  readonly maxP?: number;
  readonly maxQ?: number;
  readonly maxSeasonalP?: number;
  readonly maxSeasonalQ?: number;
  readonly maxD?: number;
  readonly maxSeasonalD?: number;
  /** Fix d or D instead of testing for them. */
  readonly d?: number;
  readonly D?: number;
  /** Consider seasonal models (default true; ignored when the season length is 1). */
  readonly seasonal?: boolean;
  /** Use CSS for the search and ML only for the chosen model. Default as R: n > 150 or s > 12. */
  readonly approximation?: boolean;
  /** Information criterion of the search. Default `aicc`. */
  readonly ic?: 'aicc' | 'aic' | 'bic';
  /**
   * With the approximation, select the model on the last `truncate` points only (R's `truncate`;
   * R's default is the whole series). Default: 300 points or 30 seasons, whichever is longer — on
   * M4 weekly (series up to 2600 points) it cut the time ~3× at equal or better accuracy; at m = 24
   * (hourly) 300 points were too few (MASE +2 %), 30 days are enough. `Infinity` = the whole series.
   */
  readonly truncate?: number;
  /**
   * How the chosen model is fitted when the search used the approximation: `ML` (exact likelihood,
   * R's CSS-ML refit) or `CSS` (the search's criterion, refined on the whole series). Default `CSS`:
   * the ML refit costs ~4 s per series at m = 24 (state dimension ~50) and was not more accurate on
   * M4. Without the approximation (short series) every model is fitted by exact ML, as R.
   */
  readonly finalMethod?: 'ML' | 'CSS';
}

/* ------------------------------------------------------------------------------------------ */
/* Model structure                                                                            */

interface Spec {
  readonly p: number;
  readonly d: number;
  readonly q: number;
  readonly P: number;
  readonly D: number;
  readonly Q: number;
  readonly s: number;
  readonly constant: boolean;
}

/** Parameters in R's order: ar(p), ma(q), sar(P), sma(Q), then the constant. */
function paramCount(spec: Spec): number {
  return spec.p + spec.q + spec.P + spec.Q + (spec.constant ? 1 : 0);
}

/** Coefficients of φ(B)Φ(B^s) as `1 − Σ a_i B^i` → dense `a[1..]` (a[0] unused). */
function expandAr(phi: ArrayLike<number>, sphi: ArrayLike<number>, s: number): Float64Array {
  const p = phi.length;
  const P = sphi.length;
  const a = new Float64Array(p + s * P + 1);
  for (let i = 0; i < p; i++) a[i + 1] = phi[i]!;
  for (let j = 0; j < P; j++) {
    a[(j + 1) * s] = a[(j + 1) * s]! + sphi[j]!;
    for (let i = 0; i < p; i++) a[(j + 1) * s + i + 1] = a[(j + 1) * s + i + 1]! - phi[i]! * sphi[j]!;
  }
  return a;
}

/** Coefficients of θ(B)Θ(B^s) as `1 + Σ b_i B^i` → dense `b[1..]`. */
function expandMa(theta: ArrayLike<number>, stheta: ArrayLike<number>, s: number): Float64Array {
  const q = theta.length;
  const Q = stheta.length;
  const b = new Float64Array(q + s * Q + 1);
  for (let i = 0; i < q; i++) b[i + 1] = theta[i]!;
  for (let j = 0; j < Q; j++) {
    b[(j + 1) * s] = b[(j + 1) * s]! + stheta[j]!;
    for (let i = 0; i < q; i++) b[(j + 1) * s + i + 1] = b[(j + 1) * s + i + 1]! + theta[i]! * stheta[j]!;
  }
  return b;
}

interface Polys {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly mean: number;
}

function polys(spec: Spec, x: ArrayLike<number>): Polys {
  const { p, q, P, Q, s } = spec;
  let k = 0;
  const take = (m: number) => {
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) out[i] = x[k++]!;
    return out;
  };
  const phi = take(p);
  const theta = take(q);
  const sphi = take(P);
  const stheta = take(Q);
  const mean = spec.constant ? x[k]! : 0;
  return { a: expandAr(phi, sphi, s), b: expandMa(theta, stheta, s), mean };
}

/** `(1−B)^d (1−B^s)^D x`, keeping each stage for integrating forecasts back. */
function difference(y: Float64Array, d: number, D: number, s: number): { w: Float64Array; stages: { series: Float64Array; lag: number }[] } {
  const stages: { series: Float64Array; lag: number }[] = [];
  let x = y;
  const lagsToApply = [...Array<number>(D).fill(s), ...Array<number>(d).fill(1)];
  for (const lag of lagsToApply) {
    stages.push({ series: x, lag });
    const next = new Float64Array(Math.max(0, x.length - lag));
    for (let t = lag; t < x.length; t++) next[t - lag] = x[t]! - x[t - lag]!;
    x = next;
  }
  return { w: x, stages };
}

/* ------------------------------------------------------------------------------------------ */
/* Conditional sum of squares                                                                 */

/**
 * CSS residuals of the ARMA on `w` (conditioning on the first p+sP values, earlier innovations 0),
 * written to `e`; returns the sum of squares (Infinity if it blows up).
 */
function cssResiduals(w: Float64Array, spec: Spec, x: ArrayLike<number>, e: Float64Array): number {
  return cssEvaluator(w, spec)(x, e);
}

/** Sorted distinct lags of a multiplicative polynomial with `n` regular and `N` seasonal terms. */
function multiplicativeLags(n: number, N: number, s: number): Int32Array {
  const lags = new Set<number>();
  for (let i = 1; i <= n; i++) lags.add(i);
  for (let k = 1; k <= N; k++) for (let i = 0; i <= n; i++) lags.add(k * s + i);
  return Int32Array.from([...lags].sort((x, y) => x - y));
}

/**
 * The CSS residual function of one model on one series, with its polynomial buffers and lag
 * lists allocated once (it runs thousands of times per search).
 */
function cssEvaluator(w: Float64Array, spec: Spec): (x: ArrayLike<number>, e: Float64Array) => number {
  const { p, q, P, Q, s } = spec;
  const arLags = multiplicativeLags(p, P, s);
  const maLags = multiplicativeLags(q, Q, s);
  const a = new Float64Array(p + s * P + 1);
  const b = new Float64Array(q + s * Q + 1);
  const arCoefs = new Float64Array(arLags.length);
  const maCoefs = new Float64Array(maLags.length);
  const nAr = arLags.length;
  const nMa = maLags.length;
  const maxMa = nMa > 0 ? maLags[nMa - 1]! : 0;
  const ncond = p + s * P;
  const n = w.length;
  const meanIndex = spec.constant ? p + q + P + Q : -1;
  return (x, e) => {
    // Expand φ(B)Φ(B^s) and θ(B)Θ(B^s) in place.
    a.fill(0);
    b.fill(0);
    for (let i = 0; i < p; i++) a[i + 1] = x[i]!;
    for (let k = 0; k < P; k++) {
      const sk = x[p + q + k]!;
      const base = (k + 1) * s;
      a[base] = a[base]! + sk;
      for (let i = 0; i < p; i++) a[base + i + 1] = a[base + i + 1]! - x[i]! * sk;
    }
    for (let i = 0; i < q; i++) b[i + 1] = x[p + i]!;
    for (let k = 0; k < Q; k++) {
      const sk = x[p + q + P + k]!;
      const base = (k + 1) * s;
      b[base] = b[base]! + sk;
      for (let i = 0; i < q; i++) b[base + i + 1] = b[base + i + 1]! + x[p + i]! * sk;
    }
    for (let k = 0; k < nAr; k++) arCoefs[k] = a[arLags[k]!]!;
    for (let k = 0; k < nMa; k++) maCoefs[k] = b[maLags[k]!]!;
    const mean = meanIndex >= 0 ? x[meanIndex]! : 0;
    let ssq = 0;
    e.fill(0, 0, Math.min(ncond, n));
    const safe = Math.max(ncond, maxMa);
    for (let t = ncond; t < n; t++) {
      let v = w[t]! - mean;
      for (let k = 0; k < nAr; k++) v -= arCoefs[k]! * (w[t - arLags[k]!]! - mean);
      if (t >= safe) {
        for (let k = 0; k < nMa; k++) v -= maCoefs[k]! * e[t - maLags[k]!]!;
      } else {
        for (let k = 0; k < nMa; k++) {
          const lag = maLags[k]!;
          if (t - lag >= 0) v -= maCoefs[k]! * e[t - lag]!;
        }
      }
      e[t] = v;
      ssq += v * v;
    }
    return Number.isFinite(ssq) ? ssq : Infinity;
  };
}

/**
 * CSS precision: `search` ranks models (a few Levenberg–Marquardt steps from a Hannan–Rissanen
 * start are enough — on M4 more steps changed neither the choices' accuracy nor anything else
 * but the time), `refine` polishes a search estimate on the whole series, `full` fits afresh.
 */
const CSS_EFFORT = { search: [5, 1e-6], refine: [8, 1e-9], full: [100, 1e-9] } as const;

/** CSS fit: least squares on the CSS residuals. */
function fitCss(w: Float64Array, spec: Spec, start: Float64Array, effort: keyof typeof CSS_EFFORT): { x: Float64Array; ssq: number } {
  const [iterations, tolerance] = CSS_EFFORT[effort];
  return leastSquares(cssEvaluator(w, spec), start, w.length, spec.p + spec.s * spec.P, iterations, tolerance);
}

/**
 * Levenberg–Marquardt on residuals `e[from..n)` computed by `residuals(x, e)` (which returns
 * Σ e², Infinity when inadmissible); forward-difference Jacobian (backward at a boundary).
 */
function leastSquares(
  residuals: (x: Float64Array, e: Float64Array) => number,
  start: Float64Array,
  n: number,
  from: number,
  maxIterations = 100,
  relTolerance = 1e-9,
): { x: Float64Array; ssq: number } {
  const k = start.length;
  let x = Float64Array.from(start);
  const e = new Float64Array(n);
  const eTrial = new Float64Array(n);
  let ssq = residuals(x, e);
  if (k === 0 || !Number.isFinite(ssq)) return { x, ssq };
  const J = new Float64Array(k * n);
  const JtJ = new Float64Array(k * k);
  const Jte = new Float64Array(k);
  const A = new Float64Array(k * k);
  const delta = new Float64Array(k);
  const trial = new Float64Array(k);
  let lambda = 1e-3;
  for (let iter = 0; iter < maxIterations; iter++) {
    for (let j = 0; j < k; j++) {
      let h = 1e-6 * Math.max(1, Math.abs(x[j]!));
      trial.set(x);
      trial[j] = x[j]! + h;
      if (!Number.isFinite(residuals(trial, eTrial))) {
        h = -h;
        trial[j] = x[j]! + h;
        if (!Number.isFinite(residuals(trial, eTrial))) return { x, ssq };
      }
      const rowJ = J.subarray(j * n, (j + 1) * n);
      const inv = 1 / h;
      for (let t = from; t < n; t++) rowJ[t] = (eTrial[t]! - e[t]!) * inv;
    }
    for (let i = 0; i < k; i++) {
      const ri = J.subarray(i * n, (i + 1) * n);
      let g = 0;
      for (let t = from; t < n; t++) g += ri[t]! * e[t]!;
      Jte[i] = g;
      for (let j = 0; j <= i; j++) {
        const rj = J.subarray(j * n, (j + 1) * n);
        let sum = 0;
        for (let t = from; t < n; t++) sum += ri[t]! * rj[t]!;
        JtJ[i * k + j] = sum;
        JtJ[j * k + i] = sum;
      }
    }
    let improved = false;
    for (let attempt = 0; attempt < 12; attempt++) {
      A.set(JtJ);
      for (let i = 0; i < k; i++) A[i * k + i] = JtJ[i * k + i]! * (1 + lambda) + 1e-12;
      for (let i = 0; i < k; i++) delta[i] = -Jte[i]!;
      if (!solveInPlace(A, delta, k)) {
        lambda *= 10;
        continue;
      }
      for (let i = 0; i < k; i++) trial[i] = x[i]! + delta[i]!;
      const s = residuals(trial, eTrial);
      if (s < ssq) {
        const gain = (ssq - s) / ssq;
        x = Float64Array.from(trial);
        e.set(eTrial);
        ssq = s;
        lambda = Math.max(lambda / 10, 1e-9);
        improved = true;
        if (gain < relTolerance) return { x, ssq };
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return { x, ssq };
}

/** Gaussian elimination with partial pivoting; solution left in `b`. */
function solveInPlace(A: Float64Array, b: Float64Array, k: number): boolean {
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]!) > Math.abs(A[piv * k + c]!)) piv = r;
    const pv = A[piv * k + c]!;
    if (!(Math.abs(pv) > 1e-300)) return false;
    if (piv !== c) {
      for (let j = 0; j < k; j++) {
        const tmp = A[c * k + j]!;
        A[c * k + j] = A[piv * k + j]!;
        A[piv * k + j] = tmp;
      }
      const tb = b[c]!;
      b[c] = b[piv]!;
      b[piv] = tb;
    }
    for (let r = c + 1; r < k; r++) {
      const f = A[r * k + c]! / pv;
      if (f === 0) continue;
      for (let j = c; j < k; j++) A[r * k + j] = A[r * k + j]! - f * A[c * k + j]!;
      b[r] = b[r]! - f * b[c]!;
    }
  }
  for (let c = k - 1; c >= 0; c--) {
    let v = b[c]!;
    for (let j = c + 1; j < k; j++) v -= A[c * k + j]! * b[j]!;
    b[c] = v / A[c * k + c]!;
  }
  return b.every((v) => Number.isFinite(v));
}

/* ------------------------------------------------------------------------------------------ */
/* Exact likelihood (Kalman filter)                                                           */

/**
 * State-space form of the ARMA (Harvey; as R's `makeARIMA`): state dimension r = max(p', q'+1),
 * transition with the AR coefficients in the first column, disturbance vector (1, b_1, …).
 * The initial covariance solves P = T P T' + R R' (doubling algorithm).
 */
interface StateSpace {
  readonly r: number;
  readonly phi: Float64Array; // length r
  readonly R: Float64Array; // length r
  readonly P0: Float64Array; // r × r
}

function stateSpace(a: Float64Array, b: Float64Array): StateSpace | undefined {
  const pa = a.length - 1;
  const qb = b.length - 1;
  const r = Math.max(pa, qb + 1, 1);
  const phi = new Float64Array(r);
  for (let i = 0; i < pa; i++) phi[i] = a[i + 1]!;
  const R = new Float64Array(r);
  R[0] = 1;
  for (let i = 1; i <= qb && i < r; i++) R[i] = b[i]!;
  const P0 = lyapunov(phi, R, r);
  return P0 ? { r, phi, R, P0 } : undefined;
}

/**
 * Solves P = T P T' + R R' (the stationary state covariance) by the doubling algorithm
 * P ← P + A P A', A ← A²; undefined when it diverges (not stationary).
 */
function lyapunov(phi: Float64Array, R: Float64Array, r: number): Float64Array | undefined {
  let A = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    A[i * r] = phi[i]!;
    if (i + 1 < r) A[i * r + i + 1] = 1;
  }
  const P = new Float64Array(r * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) P[i * r + j] = R[i]! * R[j]!;
  const AP = new Float64Array(r * r);
  let A2 = new Float64Array(r * r);
  for (let it = 0; it < 40; it++) {
    matMul(A, P, AP, r);
    let change = 0;
    let scale = 0;
    for (let i = 0; i < r; i++) {
      for (let j = i; j < r; j++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += AP[i * r + k]! * A[j * r + k]!;
        const v = P[i * r + j]! + s;
        P[i * r + j] = v;
        P[j * r + i] = v;
        if (Math.abs(s) > change) change = Math.abs(s);
        if (Math.abs(v) > scale) scale = Math.abs(v);
      }
    }
    if (!Number.isFinite(scale) || scale > 1e10) return undefined;
    if (change <= 1e-12 * scale) return P;
    matMul(A, A, A2, r);
    const tmp = A;
    A = A2;
    A2 = tmp;
  }
  return undefined;
}

function matMul(A: Float64Array, B: Float64Array, C: Float64Array, r: number): void {
  C.fill(0);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < r; k++) {
      const aik = A[i * r + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < r; j++) C[i * r + j] = C[i * r + j]! + aik * B[k * r + j]!;
    }
  }
}

/**
 * `out = T Pf T' + R R'` for the companion T (first column φ, ones above the diagonal);
 * returns max |out − R R'| (how far from the steady state).
 */
function propagate(Pf: Float64Array, out: Float64Array, phi: Float64Array, R: Float64Array, r: number): number {
  let dev = 0;
  const p00 = Pf[0]!;
  for (let i = 0; i < r; i++) {
    const phiI = phi[i]!;
    const inner = i + 1 < r;
    const rowI1 = (i + 1) * r;
    // (T Pf)_{i,c} = φ_i Pf_{0,c} + Pf_{i+1,c}
    const tpfI0 = phiI * p00 + (inner ? Pf[rowI1]! : 0);
    for (let j = i; j < r; j++) {
      let val = phi[j]! * tpfI0 + R[i]! * R[j]!;
      if (j + 1 < r) val += phiI * Pf[j + 1]! + (inner ? Pf[rowI1 + j + 1]! : 0);
      out[i * r + j] = val;
      out[j * r + i] = val;
      const dv = Math.abs(val - R[i]! * R[j]!);
      if (dv > dev) dev = dv;
    }
  }
  return dev;
}

interface KalmanResult {
  /** Σ v²/F over the series. */
  readonly ssq: number;
  /** Σ log F. */
  readonly sumLog: number;
  readonly n: number;
  /** Filtered state at the end (a_{n|n}), for forecasting. */
  readonly state: Float64Array;
}

/**
 * Kalman filter of `w − mean`. Once the predicted covariance has converged to R R' (an invertible
 * model observed long enough), it switches to the O(r) steady-state recursion.
 */
function kalman(w: Float64Array, ss: StateSpace, mean: number, resid?: Float64Array): KalmanResult {
  const { r, phi, R } = ss;
  const n = w.length;
  const a = new Float64Array(r);
  const P = Float64Array.from(ss.P0);
  const M = new Float64Array(r); // P Z' = first column of P
  const Pf = new Float64Array(r * r);
  const anew = new Float64Array(r);
  let ssq = 0;
  let sumLog = 0;
  let steady = false;
  for (let t = 0; t < n; t++) {
    const y = w[t]! - mean;
    if (steady) {
      const v = y - a[0]!;
      ssq += v * v;
      if (resid) resid[t] = v;
      // a_{t|t} = a + R v; a_{t+1} = T a_{t|t}
      for (let i = 0; i < r; i++) anew[i] = a[i]! + R[i]! * v;
      const first = anew[0]!;
      for (let i = 0; i < r; i++) a[i] = phi[i]! * first + (i + 1 < r ? anew[i + 1]! : 0);
      continue;
    }
    const F = P[0]!;
    if (!(F > 0)) return { ssq: Infinity, sumLog: 0, n, state: a };
    const v = y - a[0]!;
    ssq += (v * v) / F;
    sumLog += Math.log(F);
    if (resid) resid[t] = v / Math.sqrt(F);
    for (let i = 0; i < r; i++) M[i] = P[i * r]!;
    for (let i = 0; i < r; i++) anew[i] = a[i]! + (M[i]! * v) / F;
    // Filtered covariance Pf = P − M M' / F
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) Pf[i * r + j] = P[i * r + j]! - (M[i]! * M[j]!) / F;
    // Predict: a = T anew; P = T Pf T' + R R'
    const first = anew[0]!;
    for (let i = 0; i < r; i++) a[i] = phi[i]! * first + (i + 1 < r ? anew[i + 1]! : 0);
    const dev = propagate(Pf, P, phi, R, r);
    if (dev < 1e-9) steady = true;
  }
  // Return the filtered state a_{n|n}: undo the last prediction by storing anew.
  return { ssq, sumLog, n, state: Float64Array.from(anew) };
}

/**
 * Exact-likelihood residuals: the concentrated −2 log-likelihood is n·log(Σ ẽ²/n) + const with
 * ẽ_t = v_t/√F_t · (Π F_t)^{1/(2n)}, so ML is a least-squares problem in ẽ (solved by LM).
 */
function mlResiduals(w: Float64Array, spec: Spec, x: ArrayLike<number>, e: Float64Array): number {
  const { a, b, mean } = polys(spec, x);
  if (!arStationary(a.subarray(1), 1)) return Infinity;
  const ss = stateSpace(a, b);
  if (!ss) return Infinity;
  const k = kalman(w, ss, mean, e);
  if (!Number.isFinite(k.ssq) || k.ssq <= 0) return Infinity;
  const g = Math.exp(k.sumLog / (2 * k.n));
  let sum = 0;
  for (let t = 0; t < w.length; t++) {
    e[t] = e[t]! * g;
    sum += e[t]! * e[t]!;
  }
  return sum;
}

/* ------------------------------------------------------------------------------------------ */
/* Root checks                                                                                */

/**
 * True when 1 − Σ c_i z^i has all roots outside the circle of radius `radius` (Schur–Cohn step-down
 * on the rescaled polynomial).
 */
function arStationary(c: ArrayLike<number>, radius: number): boolean {
  let m = c.length;
  while (m > 0 && Math.abs(c[m - 1]!) < 1e-12) m--;
  if (m === 0) return true;
  let cur = new Float64Array(m);
  let scale = 1;
  for (let i = 0; i < m; i++) {
    scale *= radius;
    cur[i] = c[i]! * scale;
  }
  for (let k = m; k >= 1; k--) {
    const kk = cur[k - 1]!;
    if (!(Math.abs(kk) < 1)) return false;
    const next = new Float64Array(k - 1);
    const den = 1 - kk * kk;
    for (let j = 0; j < k - 1; j++) next[j] = (cur[j]! + kk * cur[k - 2 - j]!) / den;
    cur = next;
  }
  return true;
}

/** Complex roots of c[0] + c[1] z + … + c[n] z^n (c[n] ≠ 0), by Durand–Kerner. */
function polyRoots(c: readonly number[]): [number, number][] {
  const n = c.length - 1;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Distinct starting points on a spiral (0.4 + 0.9i)^i.
    const mod = Math.pow(Math.hypot(0.4, 0.9), i);
    const arg = i * Math.atan2(0.9, 0.4);
    re[i] = mod * Math.cos(arg);
    im[i] = mod * Math.sin(arg);
  }
  const lead = c[n]!;
  for (let iter = 0; iter < 500; iter++) {
    let change = 0;
    for (let i = 0; i < n; i++) {
      // p(z_i) by Horner
      let pr = c[n]!;
      let pi = 0;
      for (let k = n - 1; k >= 0; k--) {
        const r = pr * re[i]! - pi * im[i]! + c[k]!;
        pi = pr * im[i]! + pi * re[i]!;
        pr = r;
      }
      // lead · Π_{j≠i} (z_i − z_j)
      let dr = lead;
      let di = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const xr = re[i]! - re[j]!;
        const xi = im[i]! - im[j]!;
        const r = dr * xr - di * xi;
        di = dr * xi + di * xr;
        dr = r;
      }
      const den = dr * dr + di * di;
      if (den === 0) continue;
      const qr = (pr * dr + pi * di) / den;
      const qi = (pi * dr - pr * di) / den;
      re[i] = re[i]! - qr;
      im[i] = im[i]! - qi;
      change = Math.max(change, Math.hypot(qr, qi));
    }
    if (change < 1e-14) break;
  }
  return Array.from({ length: n }, (_, i) => [re[i]!, im[i]!] as [number, number]);
}

/**
 * R's `maInvert`: roots of 1 + θ_1 z + … inside the unit circle are replaced by their reciprocals
 * (same autocovariances, so the same likelihood), making the MA part invertible.
 */
function maInvertPart(theta: number[]): number[] {
  let q0 = theta.length;
  while (q0 > 0 && theta[q0 - 1] === 0) q0--;
  if (q0 === 0) return theta;
  const roots = polyRoots([1, ...theta.slice(0, q0)]);
  if (roots.every(([r, i]) => Math.hypot(r, i) >= 1)) return theta;
  if (q0 === 1) return [1 / theta[0]!, ...theta.slice(1).map(() => 0)];
  // Rebuild Π (1 − z / r) with the flipped roots.
  let xr = [1];
  let xi = [0];
  for (const [r0, i0] of roots) {
    const m2 = r0 * r0 + i0 * i0;
    const [rr, ri] = m2 < 1 ? [r0 / m2, -i0 / m2] : [r0, i0]; // a root inside the circle → 1/r
    const inv2 = rr * rr + ri * ri;
    const ur = rr / inv2; // 1/root
    const ui = -ri / inv2;
    const nr = [...xr, 0];
    const ni = [...xi, 0];
    for (let k = 0; k < xr.length; k++) {
      nr[k + 1] = nr[k + 1]! - (xr[k]! * ur - xi[k]! * ui);
      ni[k + 1] = ni[k + 1]! - (xr[k]! * ui + xi[k]! * ur);
    }
    xr = nr;
    xi = ni;
  }
  return [...xr.slice(1), ...theta.slice(q0).map(() => 0)];
}

/** Applies `maInvertPart` to the regular and the seasonal MA coefficients. */
function invertMa(spec: Spec, x: Float64Array): Float64Array {
  const out = Float64Array.from(x);
  const { p, q, P, Q } = spec;
  if (q > 0) out.set(maInvertPart(Array.from(x.subarray(p, p + q))), p);
  if (Q > 0) out.set(maInvertPart(Array.from(x.subarray(p + q + P, p + q + P + Q))), p + q + P);
  return out;
}

/** R's auto.arima rejects models with an AR or MA root inside |z| < 1.01. */
function rootsOk(spec: Spec, x: ArrayLike<number>): boolean {
  const { p, q, P, Q, s } = spec;
  const part = (from: number, len: number, sign: number) => Array.from({ length: len }, (_, i) => sign * x[from + i]!);
  const radius = 1.01;
  return (
    arStationary(part(0, p, 1), radius) &&
    arStationary(part(p, q, -1), radius) &&
    arStationary(part(p + q, P, 1), Math.pow(radius, s)) &&
    arStationary(part(p + q + P, Q, -1), Math.pow(radius, s))
  );
}

/* ------------------------------------------------------------------------------------------ */
/* Fitting one model                                                                          */

interface Fit {
  readonly spec: Spec;
  readonly coef: Float64Array;
  /** Innovation variance as forecast::Arima reports it: Σ residual² / (n_used − #coefficients). */
  readonly sigma2: number;
  /** -2 log-likelihood (up to the offset, for CSS). */
  readonly minus2LogLik: number;
  readonly nUsed: number;
  readonly ic: number;
  readonly method: 'CSS' | 'ML';
}

function informationCriterion(minus2LogLik: number, npar: number, nUsed: number, ic: 'aicc' | 'aic' | 'bic'): number {
  const aic = minus2LogLik + 2 * npar;
  if (ic === 'aic') return aic;
  if (ic === 'bic') return aic + npar * (Math.log(nUsed) - 2);
  return nUsed - npar - 1 > 0 ? aic + (2 * npar * (npar + 1)) / (nUsed - npar - 1) : Infinity;
}

function startValues(w: Float64Array, spec: Spec): Float64Array {
  const x = new Float64Array(paramCount(spec));
  if (spec.constant) {
    let sum = 0;
    for (const v of w) sum += v;
    x[x.length - 1] = sum / w.length;
  }
  return x;
}

/** Innovations of a long autoregression (Hannan–Rissanen step 1), cached per differenced series. */
const innovationsCache = new WeakMap<Float64Array, { e: Float64Array; from: number }>();

function longArInnovations(w: Float64Array, s: number): { e: Float64Array; from: number } | undefined {
  const cached = innovationsCache.get(w);
  if (cached) return cached;
  const n = w.length;
  const order = Math.min(Math.floor(n / 4), Math.max(20, s > 1 ? 2 * s + 2 : 0));
  if (order < 2) return undefined;
  let mean = 0;
  for (const v of w) mean += v;
  mean /= n;
  const acov = new Float64Array(order + 1);
  for (let lag = 0; lag <= order; lag++) {
    let c = 0;
    for (let t = lag; t < n; t++) c += (w[t]! - mean) * (w[t - lag]! - mean);
    acov[lag] = c / n;
  }
  if (!(acov[0]! > 0)) return undefined;
  // Levinson–Durbin.
  let a = new Float64Array(order + 1);
  let v = acov[0]!;
  for (let k = 1; k <= order; k++) {
    let acc = acov[k]!;
    for (let j = 1; j < k; j++) acc -= a[j]! * acov[k - j]!;
    const refl = acc / v;
    const next = Float64Array.from(a);
    next[k] = refl;
    for (let j = 1; j < k; j++) next[j] = a[j]! - refl * a[k - j]!;
    a = next;
    v *= 1 - refl * refl;
    if (!(v > 0)) return undefined;
  }
  const e = new Float64Array(n);
  for (let t = order; t < n; t++) {
    let r = w[t]! - mean;
    for (let j = 1; j <= order; j++) r -= a[j]! * (w[t - j]! - mean);
    e[t] = r;
  }
  const out = { e, from: order };
  innovationsCache.set(w, out);
  return out;
}

/**
 * Hannan–Rissanen start: least squares of w_t on its AR lags (1..p, s..Ps) and on the long-AR
 * innovations at the MA lags (1..q, s..Qs); cross terms of the multiplicative model are left out.
 */
function regressionStart(w: Float64Array, spec: Spec): Float64Array | undefined {
  const { p, q, P, Q, s } = spec;
  const k = p + q + P + Q;
  if (k === 0) return undefined;
  const innov = longArInnovations(w, s);
  if (!innov) return undefined;
  const n = w.length;
  const arLags = [...Array.from({ length: p }, (_, i) => i + 1), ...Array.from({ length: P }, (_, i) => (i + 1) * s)];
  const maLags = [...Array.from({ length: q }, (_, i) => i + 1), ...Array.from({ length: Q }, (_, i) => (i + 1) * s)];
  const start = Math.max(innov.from + Math.max(0, ...maLags), Math.max(0, ...arLags));
  if (n - start <= 2 * k + 2) return undefined;
  let mean = 0;
  if (spec.constant) {
    for (const v of w) mean += v;
    mean /= n;
  }
  const XtX = new Float64Array(k * k);
  const Xty = new Float64Array(k);
  const row = new Float64Array(k);
  for (let t = start; t < n; t++) {
    for (let i = 0; i < arLags.length; i++) row[i] = w[t - arLags[i]!]! - mean;
    for (let i = 0; i < maLags.length; i++) row[arLags.length + i] = innov.e[t - maLags[i]!]!;
    const y = w[t]! - mean;
    for (let i = 0; i < k; i++) {
      Xty[i] = Xty[i]! + row[i]! * y;
      for (let j = 0; j <= i; j++) XtX[i * k + j] = XtX[i * k + j]! + row[i]! * row[j]!;
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) XtX[j * k + i] = XtX[i * k + j]!;
  if (!solveInPlace(XtX, Xty, k)) return undefined;
  // Regression order: ar(p), sar(P), ma(q), sma(Q) → parameter order ar, ma, sar, sma, mean.
  const x = new Float64Array(paramCount(spec));
  for (let i = 0; i < p; i++) x[i] = Xty[i]!;
  for (let i = 0; i < P; i++) x[p + q + i] = Xty[p + i]!;
  for (let i = 0; i < q; i++) x[p + i] = Xty[p + P + i]!;
  for (let i = 0; i < Q; i++) x[p + q + P + i] = Xty[p + P + q + i]!;
  if (spec.constant) x[x.length - 1] = mean;
  return x;
}

/** The better (smaller CSS) of the zero start (R's) and the regression start. */
function bestStart(w: Float64Array, spec: Spec): Float64Array {
  const zero = startValues(w, spec);
  const hr = regressionStart(w, spec);
  if (!hr) return zero;
  const e = new Float64Array(w.length);
  return cssResiduals(w, spec, hr, e) < cssResiduals(w, spec, zero, e) ? hr : zero;
}

/**
 * Fits one model to the differenced series. `checkRoots` applies auto.arima's rule (reject AR/MA
 * roots within 1.01 of the unit circle); R's `Arima` with fixed orders does not.
 */
function fitModel(
  w: Float64Array,
  spec: Spec,
  method: 'CSS' | 'ML',
  ic: 'aicc' | 'aic' | 'bic',
  checkRoots = true,
  cssStart?: Float64Array,
  quickSearch = true,
): Fit | undefined {
  const k = paramCount(spec);
  const nUsed = w.length;
  if (nUsed - (spec.p + spec.s * spec.P) <= k + 1) return undefined;
  // In a search (root checks on, no start given) fits are quick; the chosen model is refined afterwards.
  const searching = checkRoots && !cssStart && quickSearch;
  // An estimate from the search is refined (CSS) or used as the ML start, instead of starting afresh.
  const css =
    cssStart ? fitCss(w, spec, cssStart, 'refine') : fitCss(w, spec, bestStart(w, spec), searching ? 'search' : 'full');
  if (!Number.isFinite(css.ssq)) return undefined;
  const ncond = spec.p + spec.s * spec.P;
  let coef = css.x;
  let ssr = css.ssq;
  let minus2 = nUsed * Math.log(css.ssq / (nUsed - ncond));
  if (method === 'ML') {
    const { a } = polys(spec, coef);
    if (!arStationary(a.subarray(1), 1)) return undefined;
    const arma = spec.p + spec.q + spec.P + spec.Q;
    if (arma > 0) {
      const [iterations, tolerance] = CSS_EFFORT[searching ? 'search' : 'full'];
      const res = leastSquares((x, e) => mlResiduals(w, spec, x, e), coef, nUsed, 0, iterations, tolerance);
      if (!Number.isFinite(res.ssq)) return undefined;
      coef = invertMa(spec, res.x);
    }
    const parts = polys(spec, coef);
    const ss = stateSpace(parts.a, parts.b);
    if (!ss) return undefined;
    const kal = kalman(w, ss, parts.mean);
    ssr = kal.ssq;
    minus2 = nUsed * (Math.log((2 * Math.PI * kal.ssq) / kal.n) + 1) + kal.sumLog;
  }
  if (checkRoots && !rootsOk(spec, coef)) return undefined;
  const icValue = informationCriterion(minus2, k + 1, nUsed, ic);
  const sigma2 = ssr / Math.max(1, nUsed - k);
  return { spec, coef, sigma2, minus2LogLik: minus2, nUsed, ic: icValue, method };
}

/* ------------------------------------------------------------------------------------------ */
/* Forecasting                                                                                */

class FittedArima implements FittedModel {
  readonly description: string;
  constructor(
    private readonly y: Float64Array,
    private readonly fit: Fit,
  ) {
    const { p, d, q, P, D, Q, s, constant } = fit.spec;
    const seasonal = P + D + Q > 0 ? `(${P},${D},${Q})[${s}]` : '';
    const c = constant ? (d + D === 0 ? ' with non-zero mean' : ' with drift') : '';
    this.description = `ARIMA(${p},${d},${q})${seasonal}${c}`;
  }

  predict(horizon: number, quantiles: readonly number[]): Prediction {
    const { spec, coef, sigma2 } = this.fit;
    const { w, stages } = difference(this.y, spec.d, spec.D, spec.s);
    const { a, b, mean } = polys(spec, coef);
    const wf = forecastArma(w, spec, a, b, mean, horizon, this.fit.method);
    // Integrate back through the differencing stages.
    let f = wf;
    for (let k = stages.length - 1; k >= 0; k--) {
      const { series, lag } = stages[k]!;
      const n = series.length;
      const out = new Float64Array(horizon);
      for (let j = 0; j < horizon; j++) out[j] = f[j]! + (j - lag >= 0 ? out[j - lag]! : series[n + j - lag]!);
      f = out;
    }
    // ψ-weights of the full model (AR part times the differencing operators).
    let full: Float64Array = new Float64Array(a.length);
    full[0] = 1;
    for (let i = 1; i < a.length; i++) full[i] = -a[i]!;
    for (let i = 0; i < spec.D; i++) full = polyMul(full, lagPoly(spec.s));
    for (let i = 0; i < spec.d; i++) full = polyMul(full, lagPoly(1));
    const psi = new Float64Array(horizon);
    psi[0] = 1;
    for (let j = 1; j < horizon; j++) {
      let v = j < b.length ? b[j]! : 0;
      for (let i = 1; i <= j && i < full.length; i++) v -= full[i]! * psi[j - i]!;
      psi[j] = v;
    }
    const sd = new Float64Array(horizon);
    let acc = 0;
    for (let j = 0; j < horizon; j++) {
      acc += psi[j]! * psi[j]!;
      sd[j] = Math.sqrt(sigma2 * acc);
    }
    return { mean: f, quantiles: gaussianQuantiles(f, sd, quantiles) };
  }
}

function lagPoly(lag: number): Float64Array {
  const c = new Float64Array(lag + 1);
  c[0] = 1;
  c[lag] = -1;
  return c;
}

function polyMul(x: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length + y.length - 1);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < y.length; j++) out[i + j] = out[i + j]! + x[i]! * y[j]!;
  return out;
}

/** Forecasts of the differenced series: from the Kalman state (ML) or the CSS innovations. */
function forecastArma(
  w: Float64Array,
  spec: Spec,
  a: Float64Array,
  b: Float64Array,
  mean: number,
  horizon: number,
  method: 'CSS' | 'ML',
): Float64Array {
  const out = new Float64Array(horizon);
  if (method === 'ML') {
    const ss = stateSpace(a, b);
    if (ss) {
      const st = kalman(w, ss, mean).state;
      const { r, phi } = ss;
      let state = st;
      for (let j = 0; j < horizon; j++) {
        const next = new Float64Array(r);
        const first = state[0]!;
        for (let i = 0; i < r; i++) next[i] = phi[i]! * first + (i + 1 < r ? state[i + 1]! : 0);
        state = next;
        out[j] = state[0]! + mean;
      }
      return out;
    }
  }
  const n = w.length;
  const e = new Float64Array(n);
  const ncond = spec.p + spec.s * spec.P;
  for (let t = ncond; t < n; t++) {
    let v = w[t]! - mean;
    for (let i = 1; i < a.length; i++) v -= a[i]! * (w[t - i]! - mean);
    for (let i = 1; i < b.length; i++) if (t - i >= ncond) v -= b[i]! * e[t - i]!;
    e[t] = v;
  }
  const ext = new Float64Array(n + horizon);
  ext.set(w);
  for (let j = 0; j < horizon; j++) {
    const t = n + j;
    let v = mean;
    for (let i = 1; i < a.length; i++) v += a[i]! * (ext[t - i]! - mean);
    for (let i = j + 1; i < b.length; i++) if (t - i >= 0 && t - i < n) v += b[i]! * e[t - i]!;
    ext[t] = v;
    out[j] = v;
  }
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Unit-root and seasonality tests                                                            */

function isConstant(x: Float64Array): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

/** KPSS level-stationarity statistic (urca `ur.kpss(type = "mu")`, lag trunc(3√n/13)). */
export function kpssStatistic(x: Float64Array): number {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = x[i]! - mean;
  let s = 0;
  let eta = 0;
  for (let i = 0; i < n; i++) {
    s += e[i]!;
    eta += s * s;
  }
  eta /= n * n;
  const l = Math.trunc((3 * Math.sqrt(n)) / 13);
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += e[i]! * e[i]!;
  s2 /= n;
  for (let lag = 1; lag <= l; lag++) {
    let c = 0;
    for (let t = lag; t < n; t++) c += e[t]! * e[t - lag]!;
    s2 += (2 * (1 - lag / (l + 1)) * c) / n;
  }
  return eta / s2;
}

/** forecast::ndiffs with the KPSS test at α = 0.05 (critical value 0.463). */
export function ndiffs(x: Float64Array, maxD = 2): number {
  let d = 0;
  let cur = x;
  if (cur.length < 3 || isConstant(cur)) return 0;
  while (d < maxD && kpssStatistic(cur) > 0.463) {
    d++;
    const next = new Float64Array(cur.length - 1);
    for (let i = 1; i < cur.length; i++) next[i - 1] = cur[i]! - cur[i - 1]!;
    cur = next;
    if (cur.length < 3 || isConstant(cur)) return d;
  }
  return d;
}

/**
 * Seasonal strength max(0, 1 − Var(R)/Var(S+R)) of a decomposition; forecast::nsdiffs
 * ("seas" test) differences seasonally when it exceeds 0.64. R decomposes with STL; here a
 * classical decomposition (centred moving-average trend, per-position seasonal means).
 */
export function seasonalStrength(x: Float64Array, m: number): number {
  const n = x.length;
  const half = Math.floor(m / 2);
  const idx = seasonalIndices(x, m, false);
  const rem: number[] = [];
  const sr: number[] = [];
  for (let t = half; t < n - half; t++) {
    let trend: number;
    if (m % 2 === 0) {
      let s = 0.5 * (x[t - half]! + x[t + half]!);
      for (let j = t - half + 1; j < t + half; j++) s += x[j]!;
      trend = s / m;
    } else {
      let s = 0;
      for (let j = t - half; j <= t + half; j++) s += x[j]!;
      trend = s / m;
    }
    const r = x[t]! - trend - idx[t % m]!;
    rem.push(r);
    sr.push(r + idx[t % m]!);
  }
  const variance = (v: number[]) => {
    const mu = v.reduce((s, z) => s + z, 0) / v.length;
    return v.reduce((s, z) => s + (z - mu) * (z - mu), 0) / (v.length - 1);
  };
  const vsr = variance(sr);
  if (!(vsr > 0)) return 0;
  return Math.max(0, Math.min(1, 1 - variance(rem) / vsr));
}

export function nsdiffs(x: Float64Array, m: number, maxD = 1): number {
  if (m <= 1 || x.length < 2 * m + 1 || isConstant(x) || maxD < 1) return 0;
  return seasonalStrength(x, m) > 0.64 ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public specs                                                                               */

/** Each entry `name: [value, max]` must be an integer in 0..max (undefined values are skipped). */
function checkOrders(orders: Record<string, readonly [number | undefined, number]>): void {
  for (const [name, [value, max]] of Object.entries(orders)) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new InvalidModelSpec(`ARIMA ${name} must be an integer from 0 to ${max}, got ${value}`);
    }
  }
}

/** Prepares the series: drops leading NaN, interpolates the rest. */
function prepare(series: SeriesData, minLength: number): Float64Array {
  const y = cleanSeries(series.values);
  if (y.length < minLength) {
    throw new NotEnoughData(`ARIMA needs at least ${minLength} observations, got ${y.length}`);
  }
  return y;
}

/** ARIMA with fixed orders (Forecast TrainingParameters). */
export function arima(options: FixedArimaOptions): ModelSpec {
  const { p, d, q } = options;
  const P = options.P ?? 0;
  const D = options.D ?? 0;
  const Q = options.Q ?? 0;
  checkOrders({ p: [p, 20], d: [d, 2], q: [q, 20], P: [P, 5], D: [D, 1], Q: [Q, 5], s: [options.s, 1000] });
  const method = options.method ?? 'ML';
  return {
    algorithm: 'ARIMA',
    fit(series: SeriesData): FittedModel {
      const s = options.s ?? series.seasonLength;
      if ((P > 0 || D > 0 || Q > 0) && s < 2) {
        throw new InvalidModelSpec(`ARIMA seasonal orders need a season length ≥ 2, got ${s}`);
      }
      const constant = options.constant ?? d + D === 0;
      if (constant && d + D > 1) throw new InvalidModelSpec(`ARIMA constant needs d + D ≤ 1, got ${d + D}`);
      const spec: Spec = { p, d, q, P, D, Q, s: Math.max(1, s), constant };
      const y = prepare(series, d + D * s + p + s * P + paramCount(spec) + 3);
      const { w } = difference(y, d, D, spec.s);
      const fit = fitModel(w, spec, method, 'aicc', false) ?? fitModel(w, spec, 'CSS', 'aicc', false);
      if (!fit) throw new NotEnoughData(`ARIMA ${JSON.stringify({ p, d, q, P, D, Q, s })} could not be fitted to this series`);
      return new FittedArima(y, fit);
    },
  };
}

/** Automatic ARIMA like R `forecast::auto.arima` (stepwise search). */
export function autoArima(options: ArimaOptions = {}): ModelSpec {
  const maxP = options.maxP ?? 5;
  const maxQ = options.maxQ ?? 5;
  const maxSP = options.maxSeasonalP ?? 2;
  const maxSQ = options.maxSeasonalQ ?? 2;
  const maxD = options.maxD ?? 2;
  const maxSD = options.maxSeasonalD ?? 1;
  checkOrders({
    maxP: [maxP, 20],
    maxQ: [maxQ, 20],
    maxSeasonalP: [maxSP, 5],
    maxSeasonalQ: [maxSQ, 5],
    maxD: [maxD, 2],
    maxSeasonalD: [maxSD, 1],
    d: [options.d, 2],
    D: [options.D, 1],
  });
  if (options.truncate !== undefined && !(options.truncate >= 20)) {
    throw new InvalidModelSpec(`ARIMA truncate must be at least 20 (or Infinity), got ${options.truncate}`);
  }
  const ic = options.ic ?? 'aicc';
  if (!['aicc', 'aic', 'bic'].includes(ic)) throw new InvalidModelSpec(`ARIMA ic must be aicc, aic or bic, got ${String(ic)}`);
  return {
    algorithm: 'ARIMA',
    fit(series: SeriesData): FittedModel {
      const y = prepare(series, 4);
      return new FittedArima(y, searchArima(y, series.seasonLength, options, { maxP, maxQ, maxSP, maxSQ, maxD, maxSD, ic }));
    },
  };
}

interface Limits {
  maxP: number;
  maxQ: number;
  maxSP: number;
  maxSQ: number;
  maxD: number;
  maxSD: number;
  ic: 'aicc' | 'aic' | 'bic';
}

function searchArima(y: Float64Array, seasonLength: number, options: ArimaOptions, lim: Limits): Fit {
  const n = y.length;
  let m = Math.max(1, Math.round(seasonLength));
  const seasonal = options.seasonal ?? true;
  if (!seasonal || n <= 2 * m) m = 1;
  if (isConstant(y)) {
    const spec: Spec = { p: 0, d: 0, q: 0, P: 0, D: 0, Q: 0, s: m, constant: true };
    return { spec, coef: Float64Array.of(y[0]!), sigma2: 0, minus2LogLik: -Infinity, nUsed: n, ic: -Infinity, method: 'CSS' };
  }
  let maxP = Math.min(lim.maxP, Math.floor(n / 3));
  let maxQ = Math.min(lim.maxQ, Math.floor(n / 3));
  const maxSP = m > 1 ? Math.min(lim.maxSP, Math.floor(n / 3 / m)) : 0;
  const maxSQ = m > 1 ? Math.min(lim.maxSQ, Math.floor(n / 3 / m)) : 0;
  const ic = n <= 3 ? 'aic' : lim.ic;

  const D = m > 1 ? (options.D ?? nsdiffs(y, m, lim.maxSD)) : 0;
  const dx = D > 0 ? difference(y, 0, D, m).w : y;
  const d = options.d ?? ndiffs(dx, lim.maxD);
  const { w } = difference(y, d, D, m);
  if (w.length < 3) throw new NotEnoughData(`ARIMA: too few observations (${n}) after differencing (d=${d}, D=${D})`);
  if (m > 1) {
    if (maxSP > 0) maxP = Math.min(maxP, m - 1);
    if (maxSQ > 0) maxQ = Math.min(maxQ, m - 1);
  }
  const approximation = options.approximation ?? (n > 150 || m > 12);
  const searchMethod = approximation ? 'CSS' : 'ML';
  const finalMethod = options.finalMethod ?? 'CSS';
  const allowDrift = d + D === 1;
  const allowMean = d + D === 0;
  let constant = allowDrift || allowMean;

  // R's `truncate`: with the approximation, select the model on the last `truncate` points only.
  const truncate = options.truncate ?? Math.max(300, 30 * m);
  const searchW = approximation && w.length > truncate ? w.subarray(w.length - truncate) : w;
  const tried = new Map<string, Fit | undefined>();
  const fitOrder = (p: number, q: number, P: number, Q: number, c: boolean): Fit | undefined => {
    const key = `${p},${q},${P},${Q},${c}`;
    if (tried.has(key)) return tried.get(key);
    // R's behaviour (finalMethod ML) also needs R's precision in the search: the quick fits rank
    // large models lower, and the ML refit of a smaller choice more often hits an MA unit root.
    const f = fitModel(searchW, { p, d, q, P, D, Q, s: m, constant: c }, searchMethod, ic, true, undefined, finalMethod === 'CSS');
    tried.set(key, f);
    return f;
  };
  const icOf = (f: Fit | undefined) => f?.ic ?? Infinity;

  let p = Math.min(2, maxP);
  let q = Math.min(2, maxQ);
  let P = Math.min(1, maxSP);
  let Q = Math.min(1, maxSQ);
  let best = fitOrder(p, q, P, Q, constant);
  const consider = (np: number, nq: number, nP: number, nQ: number, nc: boolean): boolean => {
    const key = `${np},${nq},${nP},${nQ},${nc}`;
    if (tried.has(key)) return false;
    const f = fitOrder(np, nq, nP, nQ, nc);
    if (icOf(f) < icOf(best)) {
      best = f;
      p = np;
      q = nq;
      P = nP;
      Q = nQ;
      constant = nc;
      return true;
    }
    return false;
  };
  consider(0, 0, 0, 0, constant);
  if (maxP > 0 || maxSP > 0) consider(maxP > 0 ? 1 : 0, 0, m > 1 && maxSP > 0 ? 1 : 0, 0, constant);
  if (maxQ > 0 || maxSQ > 0) consider(0, maxQ > 0 ? 1 : 0, 0, m > 1 && maxSQ > 0 ? 1 : 0, constant);
  if (constant) consider(0, 0, 0, 0, false);

  const nmodels = 94;
  for (let guard = 0; guard < nmodels; guard++) {
    const moved =
      (P > 0 && consider(p, q, P - 1, Q, constant)) ||
      (Q > 0 && consider(p, q, P, Q - 1, constant)) ||
      (P < maxSP && consider(p, q, P + 1, Q, constant)) ||
      (Q < maxSQ && consider(p, q, P, Q + 1, constant)) ||
      (Q > 0 && P > 0 && consider(p, q, P - 1, Q - 1, constant)) ||
      (Q < maxSQ && P > 0 && consider(p, q, P - 1, Q + 1, constant)) ||
      (Q > 0 && P < maxSP && consider(p, q, P + 1, Q - 1, constant)) ||
      (Q < maxSQ && P < maxSP && consider(p, q, P + 1, Q + 1, constant)) ||
      (p > 0 && consider(p - 1, q, P, Q, constant)) ||
      (q > 0 && consider(p, q - 1, P, Q, constant)) ||
      (p < maxP && consider(p + 1, q, P, Q, constant)) ||
      (q < maxQ && consider(p, q + 1, P, Q, constant)) ||
      (q > 0 && p > 0 && consider(p - 1, q - 1, P, Q, constant)) ||
      (q < maxQ && p > 0 && consider(p - 1, q + 1, P, Q, constant)) ||
      (q > 0 && p < maxP && consider(p + 1, q - 1, P, Q, constant)) ||
      (q < maxQ && p < maxP && consider(p + 1, q + 1, P, Q, constant)) ||
      ((allowDrift || allowMean) && consider(p, q, P, Q, !constant));
    if (!moved || tried.size >= nmodels) break;
  }

  {
    // The search's quick estimate is refined on the whole series: by CSS or exact ML (R's refit)
    // after an approximated search, by ML otherwise; if that fails, fall back through the next best.
    const method = approximation ? finalMethod : 'ML';
    const ranked = [...tried.values()].filter((f): f is Fit => f !== undefined).sort((x, y) => x.ic - y.ic);
    for (const f of ranked.slice(0, 10)) {
      const refit = fitModel(w, f.spec, method, ic, true, f.coef);
      if (refit) return refit;
    }
  }
  if (best) return best;
  const fallback = fitModel(w, { p: 0, d, q: 0, P: 0, D, Q: 0, s: m, constant: allowDrift || allowMean }, 'CSS', ic);
  if (!fallback) throw new NotEnoughData('ARIMA: no model could be fitted');
  return fallback;
}
