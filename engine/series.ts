/**
 * Imported data and the regular series built from it.
 *
 * An import job stores its rows compactly (per item: timestamps and numeric columns as typed arrays,
 * raw in one binary container, engine/binary.ts). A predictor turns the data of its dataset group into series on the
 * forecast frequency: aggregation (sum, avg, first, min, max), then Forecast's filling rules —
 * frontfill none, middlefill/backfill for the target, middlefill/backfill/futurefill for related
 * series. A mask remembers which target values were observed: filled values are never scored.
 */
import { InvalidInput } from '../shared/errors';
import { addPeriods, anchoredPeriodStart, periodStart, periodsBetween, type Frequency } from '../shared/frequency';
import { BinaryWriter, readEngineData, type BinaryFile, type StoredArray } from './binary';

export interface ImportedItem {
  /** Values of the string columns (item_id first, then the other string columns in schema order). */
  readonly key: readonly string[];
  /** Epoch milliseconds of each row. */
  readonly t: Float64Array;
  /** Numeric columns by attribute name; NaN where the CSV field was empty. */
  readonly values: Readonly<Record<string, Float64Array>>;
}

export interface ImportedData {
  /** Names of the string columns forming `key`, item_id first. */
  readonly keyColumns: readonly string[];
  readonly numericColumns: readonly string[];
  readonly items: readonly ImportedItem[];
  readonly rowCount: number;
}

/** Binary container (engine/binary.ts) of an import's data. */
export function serializeImported(data: ImportedData): BinaryFile {
  const writer = new BinaryWriter();
  const items = data.items.map((item) => ({
    key: item.key,
    t: writer.add(item.t),
    values: Object.fromEntries(Object.entries(item.values).map(([k, v]) => [k, writer.add(v)])),
  }));
  return writer.finish({ keyColumns: data.keyColumns, numericColumns: data.numericColumns, rowCount: data.rowCount, items });
}

type RawImported = { keyColumns: string[]; numericColumns: string[]; rowCount: number; items: { key: string[]; t: StoredArray; values: Record<string, StoredArray> }[] };

/** Reads what serializeImported wrote (or the JSON + base64 text of earlier engine versions). */
export function deserializeImported(bytes: Uint8Array | string): ImportedData {
  const file = readEngineData(bytes);
  const raw = file.header as RawImported;
  // Imported rows only feed buildSeries, which makes arrays of its own: views are enough.
  return {
    keyColumns: raw.keyColumns,
    numericColumns: raw.numericColumns,
    rowCount: raw.rowCount,
    items: raw.items.map((item) => ({
      key: item.key,
      t: file.f64View(item.t),
      values: Object.fromEntries(Object.entries(item.values).map(([k, v]) => [k, file.f64View(v)])),
    })),
  };
}

/**
 * Concatenates the data of several imports (or partition chunks) of one dataset: items in order of
 * first appearance, each item's rows of later parts after its earlier ones.
 */
export function mergeImported(parts: readonly ImportedData[]): ImportedData {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0];
  if (!first) return { keyColumns: ['item_id'], numericColumns: [], items: [], rowCount: 0 };
  // Two passes: the rows of each item, then typed arrays of that size filled in place.
  const byKey = new Map<string, { key: readonly string[]; pieces: ImportedItem[]; rows: number }>();
  for (const part of parts) {
    for (const item of part.items) {
      const id = JSON.stringify(item.key);
      const entry = byKey.get(id);
      if (entry) {
        entry.pieces.push(item);
        entry.rows += item.t.length;
      } else byKey.set(id, { key: item.key, pieces: [item], rows: item.t.length });
    }
  }
  const items = [...byKey.values()].map(({ key, pieces, rows }) => {
    const t = new Float64Array(rows);
    const values = Object.fromEntries(first.numericColumns.map((c) => [c, new Float64Array(rows)]));
    let at = 0;
    for (const piece of pieces) {
      t.set(piece.t, at);
      for (const column of first.numericColumns) {
        const source = piece.values[column];
        if (source) values[column]!.set(source, at);
        else values[column]!.fill(NaN, at, at + piece.t.length);
      }
      at += piece.t.length;
    }
    return { key, t, values };
  });
  return { keyColumns: first.keyColumns, numericColumns: first.numericColumns, items, rowCount: parts.reduce((s, p) => s + p.rowCount, 0) };
}

export type Aggregation = 'sum' | 'avg' | 'first' | 'min' | 'max';
export type FillMethod = 'zero' | 'nan' | 'value' | 'median' | 'mean' | 'min' | 'max';

export interface FillRule {
  readonly method: FillMethod;
  /** For `value`. */
  readonly value?: number;
}

export interface TargetFilling {
  readonly aggregation: Aggregation;
  readonly middlefill: FillRule;
  readonly backfill: FillRule;
}

export interface RelatedFilling {
  readonly middlefill?: FillRule;
  readonly backfill?: FillRule;
  readonly futurefill?: FillRule;
}

export const DEFAULT_TARGET_FILLING: TargetFilling = {
  aggregation: 'sum',
  middlefill: { method: 'zero' },
  backfill: { method: 'zero' },
};

const AGGREGATIONS: readonly Aggregation[] = ['sum', 'avg', 'first', 'min', 'max'];
const TARGET_FILLS: readonly FillMethod[] = ['zero', 'nan', 'value', 'median', 'mean', 'min', 'max'];
const RELATED_FILLS: readonly FillMethod[] = ['zero', 'value', 'median', 'mean', 'min', 'max'];

function fillRule(parameters: Readonly<Record<string, string>>, field: string, allowed: readonly FillMethod[], attribute: string): FillRule | undefined {
  const method = parameters[field];
  if (method === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(method)) {
    throw new InvalidInput(`Featurization of ${attribute}: ${field} must be one of ${allowed.join(', ')}, got "${method}"`);
  }
  if (method !== 'value') return { method: method as FillMethod };
  const text = parameters[`${field}_value`];
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value)) {
    throw new InvalidInput(`Featurization of ${attribute}: ${field}=value needs a numeric ${field}_value, got ${JSON.stringify(text)}`);
  }
  return { method: 'value', value };
}

/** Target filling from Forecast featurization parameters (`aggregation`, `frontfill`, `middlefill`, `backfill`, `*_value`). */
export function targetFilling(parameters: Readonly<Record<string, string>> = {}, attribute = 'target_value'): TargetFilling {
  const aggregation = parameters.aggregation ?? 'sum';
  if (!(AGGREGATIONS as readonly string[]).includes(aggregation)) {
    throw new InvalidInput(`Featurization of ${attribute}: aggregation must be one of ${AGGREGATIONS.join(', ')}, got "${aggregation}"`);
  }
  if (parameters.frontfill !== undefined && parameters.frontfill !== 'none') {
    throw new InvalidInput(`Featurization of ${attribute}: frontfill must be "none", got "${parameters.frontfill}"`);
  }
  return {
    aggregation: aggregation as Aggregation,
    middlefill: fillRule(parameters, 'middlefill', TARGET_FILLS, attribute) ?? { method: 'zero' },
    backfill: fillRule(parameters, 'backfill', TARGET_FILLS, attribute) ?? { method: 'zero' },
  };
}

export function relatedFilling(parameters: Readonly<Record<string, string>> = {}, attribute: string): RelatedFilling {
  return {
    middlefill: fillRule(parameters, 'middlefill', RELATED_FILLS, attribute),
    backfill: fillRule(parameters, 'backfill', RELATED_FILLS, attribute),
    futurefill: fillRule(parameters, 'futurefill', RELATED_FILLS, attribute),
  };
}

/** Value a rule fills with at a position, given the observed values before it (last 64 used). */
function fillValue(rule: FillRule, history: readonly number[]): number {
  const recent = history.slice(-64);
  switch (rule.method) {
    case 'zero':
      return 0;
    case 'nan':
      return NaN;
    case 'value':
      return rule.value ?? 0;
    case 'mean':
      return recent.length ? recent.reduce((s, v) => s + v, 0) / recent.length : NaN;
    case 'median': {
      if (!recent.length) return NaN;
      const sorted = [...recent].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    }
    case 'min':
      return recent.length ? Math.min(...recent) : NaN;
    case 'max':
      return recent.length ? Math.max(...recent) : NaN;
  }
}

export interface RegularSeries {
  /** item_id then the forecast dimensions. */
  readonly key: readonly string[];
  /** Period start of `values[0]`. */
  readonly start: Date;
  readonly values: Float64Array;
  /** 1 where the target was observed, 0 where it was filled. */
  readonly observed: Uint8Array;
  /** Related features, `values.length + horizon` long. */
  readonly related?: Record<string, Float64Array>;
}

export interface SeriesSet {
  readonly frequency: Frequency;
  readonly series: RegularSeries[];
  /** Period start of the last value of the dataset (all series end here, after backfill). */
  readonly end: Date;
  /** Number of periods from the earliest series start to `end` inclusive. */
  readonly length: number;
}

/** One series' points before aggregation: period start (ms) and value of each row. */
interface Bucketed {
  key: string[];
  buckets: Float64Array;
  values: Float64Array;
  /** Points filled so far (the arrays are sized by a first counting pass). */
  size: number;
}

/** Maps a timestamp to the start of its period. */
type PeriodOf = (t: Date) => Date;

/**
 * What building series needs of a dataset's target timestamps, dataset-wide: a sharded Plan builds
 * the series of one item partition at a time (partitions.ts), each on the calendar of the whole
 * dataset and ending where the dataset ends.
 */
export interface TargetExtent {
  /** Earliest and latest target timestamp (epoch ms; ±Infinity without rows). */
  readonly first: number;
  readonly latest: number;
  /** Every target timestamp lies on the grid through `latest` at the forecast frequency (calendarOf). */
  readonly onGrid: boolean;
}

/** Whether every timestamp lies on the grid of `frequency` through `latest` (calendarOf). */
export function onGridThrough(timestamps: Iterable<number>, frequency: Frequency, latest: number): boolean {
  const anchor = new Date(latest);
  const checked = new Set<number>();
  for (const t of timestamps) {
    if (checked.has(t)) continue;
    if (anchoredPeriodStart(new Date(t), frequency, anchor).getTime() !== t) return false;
    checked.add(t);
  }
  return true;
}

function* timestampsOf(data: ImportedData): Generator<number> {
  for (const item of data.items) for (let i = 0; i < item.t.length; i++) yield item.t[i]!;
}

/** The extent of data at hand (all of a dataset's target rows). */
export function extentOf(data: ImportedData, frequency: Frequency): TargetExtent {
  let first = Infinity;
  let latest = -Infinity;
  for (const item of data.items) {
    for (let i = 0; i < item.t.length; i++) {
      const t = item.t[i]!;
      if (t > latest) latest = t;
      if (t < first) first = t;
    }
  }
  return { first, latest, onGrid: Number.isFinite(latest) && onGridThrough(timestampsOf(data), frequency, latest) };
}

/**
 * The calendar of a dataset. When every timestamp lies on the grid through the latest one
 * (`anchoredPeriodStart`: the data is already at the forecast frequency, on its own dates), periods
 * follow that grid: weekly data on Wednesdays, monthly data on the 15th or on month ends is
 * forecast on its own dates, continuing from the last one, so realised accuracy finds its actuals.
 * Finer data aggregated to a coarser frequency (daily to weekly) uses the period starts
 * (`periodStart`: weeks from Monday, months from the 1st), as Forecast aggregates.
 */
function calendarOf(extent: TargetExtent, frequency: Frequency): PeriodOf {
  if (!extent.onGrid) return (t) => periodStart(t, frequency);
  const anchor = new Date(extent.latest);
  return (t) => anchoredPeriodStart(t, frequency, anchor);
}

function bucketise(data: ImportedData, frequency: Frequency, column: string, keyIndexes: readonly number[], periodOfTime: PeriodOf): Map<string, Bucketed> {
  const groups = new Map<string, Bucketed>();
  // First pass: the group of each item and the number of points per group, so each group's points
  // go straight into typed arrays of the right size (no growing arrays of boxed numbers).
  const counts = new Map<string, { key: string[]; count: number }>();
  const groupIds = data.items.map((item) => {
    const key = keyIndexes.map((i) => item.key[i] ?? '');
    const id = JSON.stringify(key);
    const entry = counts.get(id);
    if (entry) entry.count += item.t.length;
    else counts.set(id, { key, count: item.t.length });
    return id;
  });
  for (const [id, { key, count }] of counts) groups.set(id, { key, buckets: new Float64Array(count), values: new Float64Array(count), size: 0 });
  const periodOf = new Map<number, number>(); // timestamps repeat across items: one period start each
  data.items.forEach((item, index) => {
    const group = groups.get(groupIds[index]!)!;
    const values = item.values[column];
    for (let i = 0; i < item.t.length; i++) {
      const t = item.t[i]!;
      let bucket = periodOf.get(t);
      if (bucket === undefined) periodOf.set(t, (bucket = periodOfTime(new Date(t)).getTime()));
      group.buckets[group.size] = bucket;
      group.values[group.size] = values ? values[i]! : NaN;
      group.size++;
    }
  });
  return groups;
}

const FIXED_MS: Partial<Record<Frequency['unit'], number>> = { min: 6e4, H: 3.6e6, D: 8.64e7, W: 6.048e8 };

/** Index of each point's period relative to `startMs` (arithmetic for fixed-length periods). */
function periodIndexer(startMs: number, frequency: Frequency): (bucket: number) => number {
  const fixed = FIXED_MS[frequency.unit];
  if (fixed !== undefined) {
    const step = fixed * frequency.count;
    return (bucket) => Math.round((bucket - startMs) / step);
  }
  const start = new Date(startMs);
  return (bucket) => periodsBetween(start, new Date(bucket), frequency);
}

/** Aggregates a group's points onto `n` periods from `startMs`; NaN where a period has no value. */
function aggregateOnto(group: Bucketed, startMs: number, n: number, frequency: Frequency, how: Aggregation): Float64Array {
  const out = new Float64Array(n).fill(NaN);
  const count = new Uint32Array(n);
  const indexOf = periodIndexer(startMs, frequency);
  for (let j = 0; j < group.buckets.length; j++) {
    const v = group.values[j]!;
    if (Number.isNaN(v)) continue;
    const i = indexOf(group.buckets[j]!);
    if (i < 0 || i >= n) continue;
    const current = out[i]!;
    if (count[i] === 0) out[i] = v;
    else if (how === 'sum' || how === 'avg') out[i] = current + v;
    else if (how === 'min') out[i] = Math.min(current, v);
    else if (how === 'max') out[i] = Math.max(current, v);
    count[i]!++;
  }
  if (how === 'avg') for (let i = 0; i < n; i++) if (count[i]! > 1) out[i] = out[i]! / count[i]!;
  return out;
}

function keyIndexesFor(data: ImportedData, dimensions: readonly string[], dataset: string): number[] {
  return ['item_id', ...dimensions].map((name) => {
    const index = data.keyColumns.indexOf(name);
    if (index < 0) throw new InvalidInput(`Forecast dimension "${name}" is not a string attribute of the ${dataset} dataset`);
    return index;
  });
}

export interface BuildSeriesOptions {
  readonly target: ImportedData;
  readonly related?: ImportedData;
  readonly frequency: Frequency;
  readonly dimensions?: readonly string[];
  readonly filling?: TargetFilling;
  readonly relatedFilling?: Readonly<Record<string, RelatedFilling>>;
  /** Periods after `end` the related series must cover. */
  readonly horizon?: number;
  readonly targetColumn?: string;
  /**
   * The whole dataset's target extent when `target` holds only some of its items (one partition):
   * the series then share the dataset's calendar, end and length. Default: the extent of `target`.
   */
  readonly extent?: TargetExtent;
}

/**
 * Where a dataset's series end and how many periods the longest spans: the calendar never goes
 * back in time, so the latest timestamp's period is the last, the earliest's the first.
 */
export function datasetPeriods(extent: TargetExtent, frequency: Frequency): { end: Date; length: number } {
  const calendar = calendarOf(extent, frequency);
  const end = calendar(new Date(extent.latest));
  return { end, length: periodsBetween(calendar(new Date(extent.first)), end, frequency) + 1 };
}

/** Builds the regular series of a dataset group on the forecast frequency (aggregation + filling). */
export function buildSeries(options: BuildSeriesOptions): SeriesSet {
  const { target, frequency } = options;
  const dimensions = options.dimensions ?? [];
  const filling = options.filling ?? DEFAULT_TARGET_FILLING;
  const targetColumn = options.targetColumn ?? 'target_value';
  const extent = options.extent ?? extentOf(target, frequency);
  if (!Number.isFinite(extent.latest)) throw new InvalidInput('The target time series dataset holds no rows');
  const calendar = calendarOf(extent, frequency);
  const groups = bucketise(target, frequency, targetColumn, keyIndexesFor(target, dimensions, 'target'), calendar);
  const { end, length } = datasetPeriods(extent, frequency);
  const series: RegularSeries[] = [];
  for (const group of groups.values()) {
    let startMs = Infinity;
    for (const bucket of group.buckets) if (bucket < startMs) startMs = bucket;
    const start = new Date(startMs);
    const n = periodsBetween(start, end, frequency) + 1;
    const raw = aggregateOnto(group, startMs, n, frequency, filling.aggregation);
    let lastObserved = -1;
    for (let i = n - 1; i >= 0; i--) if (!Number.isNaN(raw[i]!)) { lastObserved = i; break; }
    const values = new Float64Array(n);
    const observed = new Uint8Array(n);
    const history: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = raw[i]!;
      if (!Number.isNaN(v)) {
        values[i] = v;
        observed[i] = 1;
        history.push(v);
        if (history.length > 64) history.shift();
      } else {
        values[i] = fillValue(i > lastObserved ? filling.backfill : filling.middlefill, history);
      }
    }
    series.push({ key: group.key, start, values, observed });
  }
  series.sort((a, b) => (a.key.join('\u0000') < b.key.join('\u0000') ? -1 : 1));
  if (options.related) attachRelated(series, options, calendar);
  return { frequency, series, end, length };
}

function attachRelated(series: RegularSeries[], options: BuildSeriesOptions, calendar: PeriodOf): void {
  const related = options.related!;
  const horizon = options.horizon ?? 0;
  const dimensions = options.dimensions ?? [];
  const indexes = keyIndexesFor(related, dimensions, 'related');
  for (const column of related.numericColumns) {
    const rules = options.relatedFilling?.[column] ?? {};
    const groups = bucketise(related, options.frequency, column, indexes, calendar);
    for (const s of series as { key: readonly string[]; start: Date; values: Float64Array; related?: Record<string, Float64Array> }[]) {
      const group = groups.get(JSON.stringify(s.key));
      const n = s.values.length + horizon;
      const out = group ? aggregateOnto(group, s.start.getTime(), n, options.frequency, 'first') : new Float64Array(n).fill(NaN);
      let lastObserved = -1;
      for (let i = n - 1; i >= 0; i--) if (!Number.isNaN(out[i]!)) { lastObserved = i; break; }
      const history: number[] = [];
      for (let i = 0; i < n; i++) {
        if (!Number.isNaN(out[i]!)) {
          history.push(out[i]!);
          continue;
        }
        const phase = i >= s.values.length ? 'futurefill' : i > lastObserved ? 'backfill' : 'middlefill';
        const rule = rules[phase];
        if (!rule) {
          throw new InvalidInput(
            `Related attribute ${column} of item ${s.key.join('/')} has a missing value at ${addPeriods(s.start, options.frequency, i).toISOString()} and no ${phase} method is configured`,
          );
        }
        out[i] = fillValue(rule, history);
      }
      s.related = { ...(s.related ?? {}), [column]: out };
    }
  }
}

/** Binary container of a series set (the predictor keeps the series it was trained on). */
export function serializeSeriesSet(set: SeriesSet): BinaryFile {
  const writer = new BinaryWriter();
  const series = set.series.map((s) => ({
    key: s.key,
    start: s.start.getTime(),
    values: writer.add(s.values),
    observed: writer.add(s.observed),
    related: s.related ? Object.fromEntries(Object.entries(s.related).map(([k, v]) => [k, writer.add(v)])) : undefined,
  }));
  return writer.finish({ frequency: set.frequency.text, end: set.end.getTime(), length: set.length, series });
}

type RawSeriesSet = {
  frequency: string;
  end: number;
  length: number;
  series: { key: string[]; start: number; values: StoredArray; observed: StoredArray; related?: Record<string, StoredArray> }[];
};

/** Reads what serializeSeriesSet wrote (or the JSON + base64 text of earlier engine versions). */
export function deserializeSeriesSet(bytes: Uint8Array | string, parse: (frequency: string) => Frequency): SeriesSet {
  const file = readEngineData(bytes);
  const raw = file.header as RawSeriesSet;
  return {
    frequency: parse(raw.frequency),
    end: new Date(raw.end),
    length: raw.length,
    series: raw.series.map((s) => ({
      key: s.key,
      start: new Date(s.start),
      values: file.f64(s.values),
      observed: file.u8(s.observed),
      related: s.related ? Object.fromEntries(Object.entries(s.related).map(([k, v]) => [k, file.f64(v)])) : undefined,
    })),
  };
}
