import { describe, expect, it } from 'vitest';
import { checkCompatible, inferSchema, parseSchemaOverride } from '../../shared/parse/schema';
import { InvalidInput, ConfigurationError } from '../../shared/errors';

const t = new Date(Date.UTC(2024, 0, 1));
const names = (s: ReturnType<typeof inferSchema>) => s.columns.map((c) => `${c.attribute.AttributeName}:${c.attribute.AttributeType}:${c.role}`);

describe('Function: inferSchema', () => {
  it('builds the target schema in timestamp, item_id, target_value order, extra columns as dimensions', () => {
    // Act
    const schema = inferSchema('TARGET', { ITEM_ID: 'a', STORE: 's1', TARGET_VALUE: 3, TIMESTAMP: t });

    // Assess
    expect(names(schema)).toEqual(['timestamp:timestamp:timestamp', 'item_id:string:item', 'target_value:float:target', 'store:string:dimension']);
  });

  it('builds the related schema with item_id, text columns as dimensions and number columns as features', () => {
    // Act
    const schema = inferSchema('RELATED', { TIMESTAMP: t, ITEM_ID: 'a', PRICE: 2.5, STORE: 's1', PROMO: null });

    // Assess
    expect(names(schema)).toEqual(['timestamp:timestamp:timestamp', 'item_id:string:item', 'store:string:dimension', 'price:float:feature', 'promo:float:feature']);
  });

  it('names the missing required columns and what the query returned', () => {
    expect(() => inferSchema('TARGET', { TS: t, ITEM_ID: 'a', VALUE: 1 })).toThrow(/TARGET_QUERY must return columns TIMESTAMP, TARGET_VALUE; it returned TS, ITEM_ID, VALUE/);
    expect(() => inferSchema('RELATED', { TIMESTAMP: t, PRICE: 1 })).toThrow(InvalidInput);
  });

  it('refuses a second timestamp column and column names Forecast cannot take', () => {
    expect(() => inferSchema('RELATED', { TIMESTAMP: t, ITEM_ID: 'a', OTHER_TS: t })).toThrow(/column OTHER_TS holds timestamps/);
    expect(() => inferSchema('TARGET', { TIMESTAMP: t, ITEM_ID: 'a', TARGET_VALUE: 1, '1BAD': 'x' })).toThrow(/column "1BAD" cannot be a Forecast attribute name/);
  });

  it('takes the configured schema instead (names, types and order)', () => {
    // Prepare
    const override = parseSchemaOverride('RELATED_SCHEMA', '{"Attributes":[{"AttributeName":"item_id","AttributeType":"string"},{"AttributeName":"timestamp","AttributeType":"timestamp"},{"AttributeName":"promo","AttributeType":"integer"}]}');

    // Act
    const schema = inferSchema('RELATED', { TIMESTAMP: t, ITEM_ID: 'a', PROMO: 1 }, override);

    // Assess
    expect(names(schema)).toEqual(['item_id:string:item', 'timestamp:timestamp:timestamp', 'promo:integer:feature']);
    expect(() => inferSchema('RELATED', { TIMESTAMP: t, ITEM_ID: 'a' }, override)).toThrow(ConfigurationError);
    expect(() => parseSchemaOverride('TARGET_SCHEMA', '[{"AttributeName":"x"}]')).toThrow(/TARGET_SCHEMA is not a list/);
  });

  it('requires related and validation dimensions to match the target', () => {
    const target = inferSchema('TARGET', { TIMESTAMP: t, ITEM_ID: 'a', TARGET_VALUE: 1, STORE: 's' });
    expect(() => checkCompatible(target, inferSchema('RELATED', { TIMESTAMP: t, ITEM_ID: 'a', PRICE: 1 }))).toThrow(/RELATED_QUERY dimensions \(none\) must match TARGET_QUERY dimensions \(store\)/);
    expect(() => checkCompatible(target, inferSchema('RELATED', { TIMESTAMP: t, ITEM_ID: 'a', STORE: 's', PRICE: 1 }))).not.toThrow();
  });
});
