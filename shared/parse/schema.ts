/**
 * Dataset schema inference (seed TODO 1): the Forecast schema of each dataset is built from the
 * columns a query returns and the types of their values, unless configuration gives it.
 *
 * - TIMESTAMP → `timestamp`, ITEM_ID → `item_id`, TARGET_VALUE → `target_value` (target, validation).
 * - Target: every other column is a dimension (`string`).
 * - Related: a text column is a dimension (`string`); a number column (or one null in the first row)
 *   is a feature (`float`). The related dataset always carries `item_id` (the seed forgot it).
 * - Attribute order: timestamp, item_id, target_value, dimensions, features; the CSV follows it.
 */
import { z } from 'zod';
import { InvalidInput, ConfigurationError } from '../errors';
import type { SqlValue } from '../ports/warehouse';
import { attributeSchema, type Attribute } from '../state';
import { RESOURCE_NAME_PATTERN } from '../names';

export type DataKind = 'TARGET' | 'RELATED' | 'VALIDATION';
export type ColumnRole = 'timestamp' | 'item' | 'target' | 'dimension' | 'feature';

export interface SchemaColumn {
  /** Column name as the query returns it (upper case). */
  readonly column: string;
  readonly attribute: Attribute;
  readonly role: ColumnRole;
}

export interface DatasetSchema {
  readonly kind: DataKind;
  /** In CSV order. */
  readonly columns: readonly SchemaColumn[];
}

export const REQUIRED_COLUMNS: Record<DataKind, readonly string[]> = {
  TARGET: ['TIMESTAMP', 'ITEM_ID', 'TARGET_VALUE'],
  VALIDATION: ['TIMESTAMP', 'ITEM_ID', 'TARGET_VALUE'],
  RELATED: ['TIMESTAMP', 'ITEM_ID'],
};

const FIXED: Record<string, { name: string; role: ColumnRole; type: Attribute['AttributeType'] }> = {
  TIMESTAMP: { name: 'timestamp', role: 'timestamp', type: 'timestamp' },
  ITEM_ID: { name: 'item_id', role: 'item', type: 'string' },
  TARGET_VALUE: { name: 'target_value', role: 'target', type: 'float' },
};

const ROLE_ORDER: Record<ColumnRole, number> = { timestamp: 0, item: 1, target: 2, dimension: 3, feature: 4 };

function roleOf(kind: DataKind, type: Attribute['AttributeType']): ColumnRole {
  if (kind !== 'RELATED') return 'dimension';
  return type === 'string' ? 'dimension' : 'feature';
}

function checkRequired(kind: DataKind, columns: readonly string[], query: string): void {
  const missing = REQUIRED_COLUMNS[kind].filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new InvalidInput(
      `${query} must return column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; it returned ${columns.join(', ') || 'no columns'}`,
      missing.map((c) => `${query}.${c}: missing`),
    );
  }
}

function attributeName(column: string, query: string): string {
  const name = column.toLowerCase();
  if (!RESOURCE_NAME_PATTERN.test(name) || name.length > 63) {
    throw new InvalidInput(`${query} column "${column}" cannot be a Forecast attribute name (letters, digits, _; starting with a letter)`);
  }
  return name;
}

/**
 * Infers the schema from the query's columns and the values of its first row.
 * `override` (configuration) fixes names, types and order instead.
 */
export function inferSchema(
  kind: DataKind,
  firstRow: Readonly<Record<string, SqlValue>>,
  override?: readonly Attribute[],
): DatasetSchema {
  const query = `${kind}_QUERY`;
  const columns = Object.keys(firstRow);
  checkRequired(kind, columns, query);
  if (override) return schemaFromOverride(kind, columns, override, query);

  const result: SchemaColumn[] = columns.map((column) => {
    const fixed = FIXED[column];
    if (fixed && (fixed.role !== 'target' || kind !== 'RELATED')) {
      return { column, attribute: { AttributeName: fixed.name, AttributeType: fixed.type }, role: fixed.role };
    }
    const sample = firstRow[column];
    if (sample instanceof Date) {
      throw new InvalidInput(`${query} column ${column} holds timestamps; only TIMESTAMP may (set ${kind}_SCHEMA to override)`);
    }
    const type: Attribute['AttributeType'] =
      kind !== 'RELATED' ? 'string' : typeof sample === 'string' || typeof sample === 'boolean' ? 'string' : 'float';
    return { column, attribute: { AttributeName: attributeName(column, query), AttributeType: type }, role: roleOf(kind, type) };
  });
  return { kind, columns: result.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]) };
}

function schemaFromOverride(kind: DataKind, columns: readonly string[], override: readonly Attribute[], query: string): DatasetSchema {
  const result = override.map((attribute): SchemaColumn => {
    const column = attribute.AttributeName.toUpperCase();
    if (!columns.includes(column)) {
      throw new ConfigurationError(`${kind}_SCHEMA names attribute ${attribute.AttributeName}, but ${query} returns no column ${column} (it returns ${columns.join(', ')})`);
    }
    const fixed = FIXED[column];
    const role = fixed && (fixed.role !== 'target' || kind !== 'RELATED') ? fixed.role : roleOf(kind, attribute.AttributeType);
    return { column, attribute: { AttributeName: attribute.AttributeName.toLowerCase(), AttributeType: attribute.AttributeType }, role };
  });
  for (const required of REQUIRED_COLUMNS[kind]) {
    if (!result.some((c) => c.column === required)) throw new ConfigurationError(`${kind}_SCHEMA must include ${required.toLowerCase()}`);
  }
  return { kind, columns: result };
}

const overrideSchema = z.union([z.array(attributeSchema).min(2), z.object({ Attributes: z.array(attributeSchema).min(2) }).transform((o) => o.Attributes)]);

/** Parses a `<KIND>_SCHEMA` configuration value: `[{AttributeName, AttributeType}, …]` or `{"Attributes": […]}`. */
export function parseSchemaOverride(name: string, text: string | undefined): Attribute[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`${name} is not JSON: ${text.slice(0, 80)}`);
  }
  const parsed = overrideSchema.safeParse(value);
  if (!parsed.success) throw new ConfigurationError(`${name} is not a list of {AttributeName, AttributeType}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Dimension attribute names of a schema, in order. */
export function dimensionsOf(schema: DatasetSchema): string[] {
  return schema.columns.filter((c) => c.role === 'dimension').map((c) => c.attribute.AttributeName);
}

/** Forecast wants the related dataset to carry the target's dimensions; validation must match the target's columns. */
export function checkCompatible(target: DatasetSchema, other: DatasetSchema): void {
  const t = dimensionsOf(target).join(', ');
  const o = dimensionsOf(other).join(', ');
  if (t !== o) {
    throw new InvalidInput(`${other.kind}_QUERY dimensions (${o || 'none'}) must match TARGET_QUERY dimensions (${t || 'none'})`);
  }
}
