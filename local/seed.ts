/**
 * Seeds the demo dataset into the warehouse's default input tables (the warehouse module's DDL),
 * once: a dataset that already has rows is left as it is, so re-runs never duplicate input.
 */
import type { Warehouse } from '../shared/ports';
import {
  ensureTables,
  tableNamesFromEnv,
  writeRelatedInputRows,
  writeTargetInputRows,
  type RelatedInputRow,
  type TableNames,
  type TargetInputRow,
} from '../shared/warehouse/layout';
import { demoDays, type DemoOptions } from './demo-data';

export interface SeedResult {
  readonly seeded: boolean;
  /** Target rows of the dataset (inserted now, or found). */
  readonly targetRows: number;
  readonly relatedRows: number;
}

/** How many target rows a dataset has in the input table. */
export async function datasetRows(warehouse: Warehouse, dataName: string, tables: TableNames = tableNamesFromEnv()): Promise<number> {
  for await (const row of warehouse.query(`SELECT COUNT(*) AS N FROM ${tables.inputTarget} WHERE DATASET_NAME = ?`, [dataName])) {
    return Number(row.N ?? 0);
  }
  return 0;
}

/** Creates the default tables when missing, then inserts the demo dataset under `dataName` unless it is there. */
export async function seedDemoDataset(
  warehouse: Warehouse,
  dataName: string,
  options: DemoOptions,
  tables: TableNames = tableNamesFromEnv(),
): Promise<SeedResult> {
  await ensureTables(warehouse, tables);
  const existing = await datasetRows(warehouse, dataName, tables);
  if (existing > 0) return { seeded: false, targetRows: existing, relatedRows: 0 };
  return warehouse.transaction(async (tx) => {
    function* target(): Generator<TargetInputRow> {
      for (const day of demoDays(options)) {
        if (day.sales !== null) yield { dataName, itemId: day.itemId, timestamp: day.timestamp, value: day.sales };
      }
    }
    function* related(): Generator<RelatedInputRow> {
      for (const day of demoDays(options)) {
        yield { dataName, itemId: day.itemId, timestamp: day.timestamp, price: day.price, promotion: day.promotion };
      }
    }
    const targetRows = await writeTargetInputRows(tx, target(), tables);
    const relatedRows = await writeRelatedInputRows(tx, related(), tables);
    return { seeded: true, targetRows, relatedRows };
  });
}
