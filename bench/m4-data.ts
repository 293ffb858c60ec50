/** The M4 files of ../shared/data/m4 and the R rows of ../shared/reference/accuracy-anchors.md, for the M4 benches. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface M4Series {
  readonly id: string;
  /** Train then test values (NaN: missing). */
  readonly values: Float64Array;
  /** Period starts as written in the file (`yyyy-mm-dd` or `yyyy-mm-dd hh:mm:ss`, UTC). */
  readonly timestamps: readonly string[];
}

/** ../shared/data/m4 beside the checkout (one level further up from a worktree under wt/), or `given`. */
export function m4DataDir(given?: string): string {
  if (given) return resolve(given);
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../shared/data/m4'), resolve(here, '../../../shared/data/m4')];
  return candidates.find((d) => existsSync(d)) ?? candidates[0]!;
}

/** Reads a long-format M4 file (item_id,timestamp,target_value; rows in time order per item). */
export function loadM4Series(path: string): M4Series[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const byId = new Map<string, { values: number[]; timestamps: string[] }>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const id = line.slice(0, c1);
    const raw = line.slice(c2 + 1).trim();
    let entry = byId.get(id);
    if (!entry) byId.set(id, (entry = { values: [], timestamps: [] }));
    entry.values.push(raw === '' || raw === 'NA' ? NaN : Number(raw));
    entry.timestamps.push(line.slice(c1 + 1, c2));
  }
  return [...byId].map(([id, e]) => ({ id, values: Float64Array.from(e.values), timestamps: e.timestamps }));
}

/** Per set: method, MASE, sMAPE, WAPE, wQL_mean, cov80, total s, median s/series. */
export const REFERENCE: Record<string, [string, number, number, number, number, number, number, number][]> = {
  weekly: [
    ['R ets (auto)', 2.527, 8.73, 0.0612, 0.0433, 0.874, 11.4, 0.028],
    ['R auto.arima', 2.541, 8.59, 0.0588, 0.0406, 0.847, 53.5, 0.087],
    ['R seasonal naive', 2.777, 9.16, 0.0634, 0.0509, 0.857, 0.27, 0.001],
    ['R theta', 2.639, 9.09, 0.0615, 0.0432, 0.811, 1.17, 0.003],
  ],
  hourly: [
    ['R ets (auto, m = 24)', 1.824, 17.31, 0.0539, 0.0367, 0.849, 874.6, 2.19],
    ['R seasonal naive', 1.193, 13.91, 0.0483, 0.0306, 0.841, 0.4, 0.001],
    ['R theta', 2.455, 18.14, 0.0523, 0.0349, 0.809, 2.18, 0.005],
    ['R STL + ETS', 1.246, 16.54, 0.0378, 0.032, 0.855, 15.6, 0.035],
  ],
  hourly_sample100: [
    ['R ets (auto)', 1.311, 17.45, 0.0802, 0.0576, 0.85, 215.8, 2.23],
    ['R auto.arima', 0.879, 15.85, 0.0504, 0.0336, 0.86, 2826, 7.23],
    ['R seasonal naive', 1.062, 14.33, 0.0457, 0.0333, 0.87, 0.1, 0.001],
    ['R theta', 2.221, 20.22, 0.0686, 0.0516, 0.8, 0.52, 0.005],
    ['R STL + ETS', 1.074, 18.16, 0.0541, 0.0439, 0.86, 3.8, 0.036],
  ],
};
