/** Request validation with Forecast's rules; every failure is the SDK's InvalidInputException. */
import { InvalidInputException } from '@aws-sdk/client-forecast';
import { parseFrequency, type Frequency } from '../shared/frequency';

export function invalid(message: string): InvalidInputException {
  return new InvalidInputException({ message, $metadata: {} });
}

const NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

/** Forecast resource names: `^[a-zA-Z][a-zA-Z0-9_]*`, 1–63 characters. */
export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${field} is required`);
  if (value.length > 63) throw invalid(`${field} "${value}" is longer than 63 characters`);
  if (!NAME.test(value)) throw invalid(`${field} "${value}" must match ^[a-zA-Z][a-zA-Z0-9_]* (letters, digits, underscores; a letter first)`);
  return value;
}

export function required<T>(field: string, value: T | undefined | null): T {
  if (value === undefined || value === null || value === '') throw invalid(`${field} is required`);
  return value;
}

export function checkFrequency(field: string, value: unknown): Frequency {
  if (typeof value !== 'string') throw invalid(`${field} is required`);
  try {
    return parseFrequency(value);
  } catch (error) {
    throw invalid(`${field}: ${(error as Error).message}`);
  }
}

export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export const DEFAULT_FORECAST_TYPES = ['0.1', '0.5', '0.9'] as const;

/** ForecastTypes: up to 5 of `0.01`…`0.99` (two decimals at most) or `mean`. */
export function checkForecastTypes(value: readonly string[] | undefined): string[] {
  const types = value ?? [...DEFAULT_FORECAST_TYPES];
  if (!Array.isArray(types) || types.length < 1 || types.length > 5) throw invalid(`ForecastTypes must list 1 to 5 forecast types, got ${types.length}`);
  for (const type of types) {
    if (type === 'mean') continue;
    const q = Number(type);
    if (!/^0?\.\d{1,2}$|^0\.\d{1,2}$/.test(type) || !(q >= 0.01 && q <= 0.99)) {
      throw invalid(`ForecastTypes: "${type}" is neither mean nor a quantile from 0.01 to 0.99 (two decimals at most)`);
    }
  }
  if (new Set(types).size !== types.length) throw invalid(`ForecastTypes has duplicates: ${types.join(', ')}`);
  return [...types];
}

/** Quantile levels of forecast types (mean excluded). */
export function quantilesOf(types: readonly string[]): number[] {
  return types.filter((t) => t !== 'mean').map(Number);
}

/** Export column name of a forecast type: 0.5 → p50, 0.95 → p95, mean → mean. */
export function columnOf(type: string): string {
  if (type === 'mean') return 'mean';
  return `p${Math.round(Number(type) * 1000) / 10}`.replace(/\.0$/, '');
}

export function checkS3Path(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^s3:\/\/[^/]+(\/.*)?$/.test(value)) throw invalid(`${field} must be an s3:// path, got ${JSON.stringify(value)}`);
  return value;
}
