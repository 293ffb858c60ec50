/**
 * Reading one forecast export: its part files only (the export's own folder, its job's name, the
 * newest export timestamp when a job was re-run), each row turned back into real units with the
 * inverse of the run's transform on every forecast-type column.
 */
import { InvalidInput } from '../errors';
import type { ObjectStore } from '../ports/storage';
import { parseTimestamp } from '../time';
import { forecastInverse, type TransformName } from '../transform';
import { readCsvRecords } from './csv';

const PART = /^(.+)_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)_part(\d+)\.csv$/i;

function partNumber(name: string): number {
  const m = /_part(\d+)\.csv$/i.exec(name);
  return m ? Number(m[1]) : 0;
}

/**
 * The part files of exactly one export: direct children of `exportS3Uri` ending in `.csv`
 * (`_CHECK`, `_SUCCESS` and anything in sub-folders are ignored). When file names carry the export
 * job's name and timestamp, only the newest timestamp of that job counts. Sorted by part number.
 */
export async function listExportParts(store: ObjectStore, exportS3Uri: string, exportJobName?: string): Promise<string[]> {
  const folder = exportS3Uri.endsWith('/') ? exportS3Uri : `${exportS3Uri}/`;
  const csvs = (await store.list(folder))
    .map((o) => o.uri)
    .filter((uri) => {
      const name = uri.slice(folder.length);
      return !name.includes('/') && /\.csv$/i.test(name);
    });
  const named = csvs
    .map((uri) => ({ uri, match: PART.exec(uri.slice(folder.length)) }))
    .filter((p) => p.match !== null && (exportJobName === undefined || p.match[1] === exportJobName));
  let chosen = csvs;
  if (named.length > 0) {
    const newest = named.map((p) => p.match![2]!).sort().at(-1);
    chosen = named.filter((p) => p.match![2] === newest).map((p) => p.uri);
  }
  return chosen.sort((a, b) => partNumber(a) - partNumber(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export interface ExportRow {
  readonly itemId: string;
  /** Dimension values by name (export column order), or null when the export has none. */
  readonly dimensions: Readonly<Record<string, string>> | null;
  readonly date: Date;
  /** Forecast type label (`p50`, `mean`) → value in real units (null when the export cell is empty). */
  readonly values: readonly (readonly [string, number | null])[];
}

/** `p50` → 0.5, `mean` → undefined. */
export function quantileOf(label: string): number | undefined {
  const m = /^p(\d{1,2})$/.exec(label);
  return m ? Number(m[1]) / 100 : undefined;
}

/** `0.5`/`0.50` → `p50`; `mean` → `mean`. */
export function labelOf(forecastType: string): string {
  return forecastType === 'mean' ? 'mean' : `p${Math.round(Number(forecastType) * 100)}`;
}

const isTypeColumn = (name: string) => name === 'mean' || quantileOf(name) !== undefined;

/**
 * Streams the rows of the given part files in order, back in real units (`forecastInverse`: the
 * inverse transform, demand floored at zero unless `nonNegative` is false, quantiles in order).
 */
export async function* readExportRows(
  store: ObjectStore,
  parts: readonly string[],
  transform: TransformName,
  options: { readonly nonNegative: boolean } = { nonNegative: true },
): AsyncIterable<ExportRow> {
  const dates = new Map<string, Date>();
  for (const uri of parts) {
    let header: string[] | undefined;
    let itemIndex = -1;
    let dateIndex = -1;
    let dims: [string, number][] = [];
    let types: [string, number][] = [];
    let realUnits: (row: readonly (number | null)[]) => (number | null)[] = (row) => [...row];
    let line = 1;
    for await (const record of readCsvRecords(store.read(uri))) {
      if (!header) {
        header = record.map((h) => h.trim());
        itemIndex = header.indexOf('item_id');
        dateIndex = header.indexOf('date');
        if (itemIndex < 0 || dateIndex < 0) throw new InvalidInput(`${uri}: header ${JSON.stringify(header)} lacks item_id or date`);
        types = header.map((h, i) => [h, i] as [string, number]).filter(([h]) => isTypeColumn(h));
        if (types.length === 0) throw new InvalidInput(`${uri}: header ${JSON.stringify(header)} has no forecast-type column (p50, mean, …)`);
        dims = header.map((h, i) => [h, i] as [string, number]).filter(([h, i]) => i !== itemIndex && i !== dateIndex && !isTypeColumn(h));
        realUnits = forecastInverse(transform, { nonNegative: options.nonNegative, quantiles: types.map(([label]) => quantileOf(label)) });
        continue;
      }
      line++;
      if (record.length !== header.length) throw new InvalidInput(`${uri} line ${line}: ${record.length} fields, header has ${header.length}`);
      const dateText = record[dateIndex]!;
      let date = dates.get(dateText);
      if (!date) {
        try {
          date = parseTimestamp(dateText);
        } catch {
          throw new InvalidInput(`${uri} line ${line}: date ${JSON.stringify(dateText)} is not a timestamp`);
        }
        if (dates.size > 50_000) dates.clear();
        dates.set(dateText, date);
      }
      const real = realUnits(
        types.map(([label, index]) => {
          const text = record[index]!.trim();
          if (text === '') return null;
          const n = Number(text);
          if (!Number.isFinite(n)) throw new InvalidInput(`${uri} line ${line}: ${label} ${JSON.stringify(text)} is not a number`);
          return n;
        }),
      );
      const values = types.map(([label], k): readonly [string, number | null] => [label, real[k]!]);
      yield {
        itemId: record[itemIndex]!,
        dimensions: dims.length > 0 ? Object.fromEntries(dims.map(([name, index]) => [name, record[index]!])) : null,
        date,
        values,
      };
    }
  }
}
