/**
 * Cleaning, one row at a time, per series in timestamp order (memory flat in the row count). A
 * series is an item and its dimension values (item × store): with dimensions, every series is
 * cleaned, filled and checked on its own.
 *
 * - Rows must come grouped by series and ordered by timestamp (the queries end with
 *   `ORDER BY ITEM_ID[, dimensions], TIMESTAMP`); a series seen again later, a timestamp going back,
 *   or the same (series, timestamp) twice is an error naming the series and the timestamps.
 * - Consecutive timestamps of an item lie a whole number of periods apart (gaps are allowed:
 *   Forecast fills them); a timestamp off that grid, or a time of day under a date-only format,
 *   is an error.
 * - Target and validation values: a negative or missing value becomes missing and is
 *   forward-filled from the same item's previous value; leading ones stay missing (empty in
 *   the CSV). Then the run's transform (log1p) applies. Non-numeric values are errors.
 * - Target series that cannot be trained or backtested are quarantined, not fatal: one with no
 *   usable value (all negative or missing), a single data point, or an item id holding a control
 *   character (a newline would forge lines downstream). Their rows are left out, each is recorded
 *   with its reason in `stats.quarantined` (parse writes them to the warehouse), and the rest of the
 *   run goes on; a target whose every series is quarantined is an error listing the reasons. A
 *   series' first rows are held back only until it has 2 rows and a usable value.
 * - Related features: numbers are kept as they are (a feature may legitimately be negative,
 *   e.g. a price change); missing stays empty; non-numeric is an error.
 */
import { InvalidInput } from '../errors';
import { addPeriods, periodsBetween, type Frequency } from '../frequency';
import { batchRow, type ColumnBatch, type Row, type SqlValue } from '../ports/warehouse';
import { formatTimestamp, parseTimestamp, type TimestampFormat } from '../time';
import { TRANSFORMS, type TransformName } from '../transform';
import type { DatasetSchema } from './schema';

/** A value as a number: numbers, bigints and numeric strings; null/undefined/'' → null; anything else → undefined. */
export function toNumber(value: unknown): number | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return null;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Forward-fills negatives and missing values of one item's series (in timestamp order); leading ones stay null. */
export function fillSeries(values: readonly (number | null)[]): (number | null)[] {
  let last: number | null = null;
  return values.map((v) => {
    if (v !== null && v >= 0) {
      last = v;
      return v;
    }
    return last;
  });
}

/** A target series left out of the run, and why. */
export interface QuarantinedSeries {
  readonly item: string;
  /** Dimension values by attribute name (`{"store": "s1"}`), or null without dimensions. */
  readonly dimensions: Readonly<Record<string, string>> | null;
  readonly reason: string;
}

/** The key of a series across datasets: the item id and its dimension values. */
export function seriesKey(item: string, dimensionValues: readonly string[]): string {
  return dimensionValues.length === 0 ? item : `${item}\u0001${dimensionValues.join('\u0001')}`;
}

export interface CleaningOptions {
  readonly schema: DatasetSchema;
  readonly frequency: Frequency;
  readonly timestampFormat: TimestampFormat;
  /** Applied to target values (TARGET and VALIDATION); related features are never transformed. */
  readonly transform: TransformName;
  /** Negative target values are data, not errors to forward-fill (the message's `AllowNegative`). */
  readonly keepNegatives?: boolean;
  /** Series keys (`seriesKey`) whose rows are skipped: the target's quarantined series, in related and validation data. */
  readonly exclude?: ReadonlySet<string>;
}

export interface CleaningStats {
  rows: number;
  items: number;
  /** Longest item series, in periods from its first to its last timestamp (inclusive). */
  longestSeries: number;
  /** Negative or missing target values replaced by the item's previous value. */
  filled: number;
  /** Leading negative or missing target values left empty. */
  leadingMissing: number;
  first: Date | undefined;
  last: Date | undefined;
  /** Target series left out, with their reasons (`rows`, `items`, `first`, `last` count only the kept ones). */
  quarantined: QuarantinedSeries[];
}

const DATE_ONLY_MS = 86_400_000;
const NO_DIMENSIONS: string[] = [];

/** A dimension value as text (and as part of a series key). */
function dimensionText(raw: unknown): string {
  return raw === null || raw === undefined ? '' : raw instanceof Date ? raw.toISOString() : String(raw);
}
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** A rejected value as the error shows it: JSON, but Infinity and NaN by name (JSON.stringify makes them null). */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Turns query rows into headerless CSV lines in schema order, cleaning as it goes.
 * One instance per dataset; `line(row)` throws InvalidInput naming the item, timestamp, column and value.
 */
export class RowCleaner {
  readonly stats: CleaningStats = { rows: 0, items: 0, longestSeries: 0, filled: 0, leadingMissing: 0, first: undefined, last: undefined, quarantined: [] };
  private readonly seen = new Set<string>();
  /** The current series' key (the item id when there are no dimensions: the fast path compares it to the row's id). */
  private item: string | undefined;
  /** The current series' item id, its dimension values, and how errors name it (`item "a"`, `item "a" STORE "s1"`). */
  private itemId = '';
  private dimensionValues: string[] = [];
  private label = '';
  /** The current item id as a CSV field (quoted when needed), computed once per item. */
  private itemField = '';
  /** Rows of the current series are dropped: it is quarantined (`skipReason`) or excluded. */
  private skipping = false;
  private skipReason: string | undefined;
  /** CSV text of the current target series held back until it has 2 rows and a usable value. */
  private pending = '';
  private settled = false;
  /** CSV text ready to hand out (`line`, `lines`, `rest`). */
  private out = '';
  /** Rows read, for error messages (kept and left out alike). */
  private rowsRead = 0;
  private readonly dimensionColumns: string[];
  private readonly dimensionNames: string[];
  private readonly ordering: string;
  private itemStart = 0;
  private previous = 0;
  private lastValue: number | null = null;
  /** Rows and usable (non-negative, present) target values of the current item. */
  private itemRows = 0;
  private itemObserved = 0;
  private readonly forward: (x: number) => number;
  private readonly query: string;
  private readonly fixedStep: number | undefined;
  private readonly formatted = new Map<number, string>();

  constructor(private readonly options: CleaningOptions) {
    this.forward = TRANSFORMS[options.transform].forward;
    this.query = `${options.schema.kind}_QUERY`;
    const unitMs: Partial<Record<Frequency['unit'], number>> = { min: 60_000, H: 3_600_000, D: DATE_ONLY_MS, W: 7 * DATE_ONLY_MS };
    const ms = unitMs[options.frequency.unit];
    this.fixedStep = ms === undefined ? undefined : ms * options.frequency.count;
    const dimensions = options.schema.columns.filter((c) => c.role === 'dimension');
    this.dimensionColumns = dimensions.map((c) => c.column);
    this.dimensionNames = dimensions.map((c) => c.attribute.AttributeName);
    this.ordering = ['ITEM_ID', ...this.dimensionColumns, 'TIMESTAMP'].join(', ');
  }

  private fail(message: string): never {
    throw new InvalidInput(`${this.query}: ${message}`, [message]);
  }

  private timestampOf(value: SqlValue | undefined, label: string): Date {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
    if (typeof value === 'string') {
      try {
        return parseTimestamp(value);
      } catch {
        /* reported below with the item */
      }
    }
    return this.fail(`${label}: TIMESTAMP ${JSON.stringify(value ?? null)} is not a timestamp`);
  }

  private formatMs(ms: number): string {
    let text = this.formatted.get(ms);
    if (text === undefined) {
      if (this.formatted.size > 100_000) this.formatted.clear();
      text = formatTimestamp(new Date(ms), this.options.timestampFormat);
      this.formatted.set(ms, text);
    }
    return text;
  }

  /**
   * Whether `to` lies a whole number of periods after the previous timestamp of the series. Months
   * and years count from the series' first timestamp, its calendar (`addPeriods`): data on the 30th
   * goes Jan 30, Feb 29, Mar 30; month-end data Jan 31, Feb 29, Mar 31.
   */
  private onGrid(to: number): boolean {
    if (this.fixedStep !== undefined) return (to - this.previous) % this.fixedStep === 0;
    const anchor = new Date(this.itemStart);
    const steps = periodsBetween(anchor, new Date(to), this.options.frequency);
    return steps >= 1 && addPeriods(anchor, this.options.frequency, steps).getTime() === to;
  }

  /** Why the current target series cannot be trained, or undefined when it can. */
  private unusable(): string | undefined {
    if (this.options.schema.kind !== 'TARGET') return undefined;
    if (this.itemObserved === 0) return `all ${this.itemRows} target values are negative or missing; the item has no usable history`;
    if (this.itemRows === 1) return `a single data point (${new Date(this.itemStart).toISOString()}); an item needs at least 2 to be trained and backtested`;
    return undefined;
  }

  private endItem(): void {
    if (this.item === undefined) return;
    const reason = this.skipReason ?? (this.skipping ? undefined : this.unusable());
    if (reason !== undefined) {
      this.stats.quarantined.push({
        item: this.itemId,
        dimensions: this.dimensionNames.length === 0 ? null : Object.fromEntries(this.dimensionNames.map((d, i) => [d, this.dimensionValues[i]!])),
        reason,
      });
    } else if (!this.skipping) {
      const length = this.fixedStep !== undefined
        ? Math.round((this.previous - this.itemStart) / this.fixedStep) + 1
        : periodsBetween(new Date(this.itemStart), new Date(this.previous), this.options.frequency) + 1;
      if (length > this.stats.longestSeries) this.stats.longestSeries = length;
      this.stats.items++;
      this.stats.rows += this.itemRows;
      if (this.stats.first === undefined || this.itemStart < this.stats.first.getTime()) this.stats.first = new Date(this.itemStart);
      if (this.stats.last === undefined || this.previous > this.stats.last.getTime()) this.stats.last = new Date(this.previous);
      this.out += this.pending;
    }
    this.pending = '';
  }

  /** Call once after the last row; then `rest()` hands out the text still held. */
  finish(): CleaningStats {
    this.endItem();
    this.item = undefined;
    if (this.options.schema.kind === 'TARGET' && this.stats.items === 0 && this.stats.quarantined.length > 0) {
      const shown = this.stats.quarantined.slice(0, 5).map((q) => `${this.describe(q.item, q.dimensions === null ? [] : Object.values(q.dimensions))}: ${q.reason}`);
      const more = this.stats.quarantined.length - shown.length;
      this.fail(`every item is quarantined, nothing is left to forecast: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
    }
    return this.stats;
  }

  /** The CSV text not handed out yet (after `finish`: the end of the file). */
  rest(): string {
    const text = this.out;
    this.out = '';
    return text;
  }

  private describe(item: string, dimensionValues: readonly string[]): string {
    let text = `item ${JSON.stringify(item)}`;
    for (let i = 0; i < dimensionValues.length; i++) text += ` ${this.dimensionColumns[i]} ${JSON.stringify(dimensionValues[i])}`;
    return text;
  }

  private itemOf(rawItem: SqlValue | undefined): string {
    if (rawItem === null || rawItem === undefined || String(rawItem).trim() === '') {
      this.fail(`row ${this.rowsRead}: ITEM_ID is empty`);
    }
    return String(rawItem);
  }

  /** Starts the series of `item` with these dimension values (its key not seen before). */
  private startSeries(key: string, item: string, dimensionValues: string[], ms: number): void {
    this.endItem();
    this.seen.add(key);
    this.item = key;
    this.itemId = item;
    this.dimensionValues = dimensionValues;
    this.label = this.describe(item, dimensionValues);
    this.itemField = csvField(item);
    this.itemStart = ms;
    this.previous = ms;
    this.lastValue = null;
    this.itemRows = 0;
    this.itemObserved = 0;
    this.skipReason = undefined;
    this.skipping = this.options.exclude?.has(key) === true;
    this.settled = this.options.schema.kind !== 'TARGET';
    if (!this.skipping && CONTROL_CHARACTER.test(item)) {
      // A newline or another control character in an id breaks line-based tools downstream (and
      // Forecast's own CSV reading): the target's series is quarantined; elsewhere it is an error.
      const reason = `ITEM_ID ${JSON.stringify(item)} contains a control character (a newline, tab or similar)`;
      if (this.options.schema.kind !== 'TARGET') this.fail(`row ${this.rowsRead}: ${reason}`);
      this.skipping = true;
      this.skipReason = reason;
    }
  }

  /** A target value after the forward fill: negative or missing → the item's previous value (or null). */
  private filled(n: number | null): number | null {
    if (n !== null && (n >= 0 || this.options.keepNegatives === true)) {
      this.lastValue = n;
      this.itemObserved++;
      return n;
    }
    if (this.lastValue === null) this.stats.leadingMissing++;
    else this.stats.filled++;
    return this.lastValue;
  }

  /** Transformed target values as CSV text, for values seen before (integers and cents repeat a lot). */
  private readonly targetText = new Map<number, string>();

  private targetField(value: number): string {
    let text = this.targetText.get(value);
    if (text === undefined) {
      if (this.targetText.size > 100_000) this.targetText.clear();
      text = String(this.forward(value));
      this.targetText.set(value, text);
    }
    return text;
  }

  /**
   * The CSV lines of a whole column batch, the same text as `line` of each of its rows. Rows of the
   * current item with a timestamp on the grid and numeric values take the typed fast path; every
   * other row (a new item, NULLs, anything to reject or leave out) goes through the row path, with
   * the same state.
   */
  lines(batch: ColumnBatch): string {
    const n = batch.length;
    const tsColumn = batch.columns.get('TIMESTAMP');
    const itemColumn = batch.columns.get('ITEM_ID');
    const columns = this.options.schema.columns;
    const sources = columns.map((c) => (c.role === 'target' || c.role === 'feature' ? batch.columns.get(c.column) : undefined));
    const fast =
      tsColumn?.kind === 'timestamp' &&
      itemColumn?.kind === 'values' &&
      this.fixedStep !== undefined &&
      columns.every((c, i) => c.role === 'timestamp' || c.role === 'item' || sources[i]?.kind === 'number');
    if (!fast) {
      for (let r = 0; r < n; r++) this.consume(batchRow(batch, r));
      return this.rest();
    }
    const ms = tsColumn.ms;
    const tsNulls = tsColumn.nulls;
    const items = itemColumn.values;
    const step = this.fixedStep!;
    const dateOnly = this.options.timestampFormat === 'yyyy-MM-dd';
    const numeric = sources as ({ kind: 'number'; values: Float64Array; nulls: Uint8Array | null } | undefined)[];
    // The row being written, read by the accessors (made once per batch, not once per row).
    let row = 0;
    const numberAt = (i: number) => {
      const source = numeric[i]!;
      return source.nulls !== null && source.nulls[row] === 1 ? null : source.values[row]!;
    };
    const noDimension = () => ''; // a batch with dimension columns takes the row path
    for (let r = 0; r < n; r++) {
      const t = ms[r]!;
      const item = items[r];
      // Not the current item, a series left out, a NULL or out-of-range timestamp, a time of day
      // under a date-only format, not strictly after the previous one or off the grid: the row path decides.
      if (
        item !== this.item ||
        typeof item !== 'string' ||
        this.skipping ||
        (tsNulls !== null && tsNulls[r] === 1) ||
        !(t <= 8.64e15 && t >= -8.64e15) ||
        (dateOnly && t % DATE_ONLY_MS !== 0) ||
        t <= this.previous ||
        (t - this.previous) % step !== 0
      ) {
        this.consume(batchRow(batch, r));
        continue;
      }
      let bad = false;
      for (let i = 0; i < columns.length; i++) {
        const source = numeric[i];
        if (source !== undefined && (source.nulls === null || source.nulls[r] !== 1) && !Number.isFinite(source.values[r]!)) bad = true;
      }
      if (bad) {
        this.consume(batchRow(batch, r));
        continue;
      }
      row = r;
      this.rowsRead++;
      this.accept(t);
      this.emit(this.csvLine(t, numberAt, noDimension));
    }
    return this.rest();
  }

  /** The CSV text (lines with `\n`) this query row makes ready: its own line, or none while its series is held back or left out, or several once it is settled. */
  line(row: Row): string {
    this.consume(row);
    return this.rest();
  }

  private consume(row: Row): void {
    this.rowsRead++;
    const rawItem = row.ITEM_ID;
    // Fast path: the same item as the previous row (already checked when it started).
    const item = typeof rawItem === 'string' && this.item !== undefined && rawItem === this.itemId ? rawItem : this.itemOf(rawItem);
    const dims = this.dimensionColumns.length === 0 ? NO_DIMENSIONS : this.dimensionColumns.map((c) => dimensionText(row[c]));
    const key = seriesKey(item, dims);
    const t = this.timestampOf(row.TIMESTAMP, key === this.item ? this.label : this.describe(item, dims));
    const ms = t.getTime();
    if (key !== this.item) {
      if (this.seen.has(key)) {
        this.fail(`${this.describe(item, dims)} appears again after other items; rows must be ordered by ${this.ordering}`);
      }
      this.startSeries(key, item, dims, ms);
    }
    if (this.options.timestampFormat === 'yyyy-MM-dd' && ms % DATE_ONLY_MS !== 0) {
      this.fail(`${this.label}: TIMESTAMP ${t.toISOString()} has a time of day, but the timestamp format is yyyy-MM-dd`);
    }
    if (this.itemRows > 0) {
      if (ms === this.previous) {
        this.fail(`${this.label}: duplicate rows for TIMESTAMP ${t.toISOString()} (one row per ${this.ordering.replace(/, TIMESTAMP$/, '')} and TIMESTAMP)`);
      } else if (ms < this.previous) {
        this.fail(`${this.label}: TIMESTAMP ${t.toISOString()} comes after ${new Date(this.previous).toISOString()}; rows must be ordered by ${this.ordering}`);
      } else if (!this.onGrid(ms)) {
        this.fail(`${this.label}: TIMESTAMP ${t.toISOString()} is not a whole number of ${this.options.frequency.text} periods after ${new Date(this.previous).toISOString()}`);
      }
    }
    this.accept(ms);
    if (this.skipping) return;
    const columns = this.options.schema.columns;
    const numberAt = (i: number) => {
      const column = columns[i]!.column;
      const raw = row[column];
      const n = toNumber(raw);
      if (n === undefined) this.fail(`${this.label} at ${t.toISOString()}: ${column} ${shown(raw)} is not a number`);
      return n;
    };
    const dimensionAt = (i: number) => {
      const raw = row[columns[i]!.column];
      return raw === null || raw === undefined ? '' : csvField(dimensionText(raw));
    };
    this.emit(this.csvLine(ms, numberAt, dimensionAt));
  }

  /** Counts an accepted row of the current series at `ms` (its order and grid already checked). */
  private accept(ms: number): void {
    this.previous = ms;
    this.itemRows++;
  }

  /** Hands out a line of the current series, or holds it back until the series is known to be trainable. */
  private emit(text: string): void {
    if (this.settled) {
      this.out += text;
      return;
    }
    this.pending += text;
    if (this.itemRows >= 2 && this.itemObserved >= 1) {
      this.settled = true;
      this.out += this.pending;
      this.pending = '';
    }
  }

  /**
   * The CSV line (with `\n`) of an accepted row: `numberAt(i)` is the value of target or feature
   * column i (null = NULL; it rejects anything else), `dimensionAt(i)` a dimension's CSV field.
   */
  private csvLine(ms: number, numberAt: (i: number) => number | null, dimensionAt: (i: number) => string): string {
    let out = '';
    const columns = this.options.schema.columns;
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) out += ',';
      switch (columns[i]!.role) {
        case 'timestamp':
          out += this.formatMs(ms);
          break;
        case 'item':
          out += this.itemField;
          break;
        case 'target': {
          const value = this.filled(numberAt(i));
          if (value !== null) out += this.targetField(value);
          break;
        }
        case 'feature': {
          const n = numberAt(i);
          if (n !== null) out += String(n);
          break;
        }
        case 'dimension':
          out += dimensionAt(i);
          break;
      }
    }
    return out + '\n';
  }
}
