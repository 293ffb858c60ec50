/** Timestamp parsing and formatting in Forecast's formats, always UTC. */
import { InvalidInput } from './errors';

export const TIMESTAMP_FORMATS = ['yyyy-MM-dd', 'yyyy-MM-dd HH:mm:ss'] as const;
export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?Z?$/;

/** Parses `yyyy-MM-dd`, `yyyy-MM-dd HH:mm[:ss]` or ISO `…THH:mm:ssZ`; throws InvalidInput otherwise. */
export function parseTimestamp(text: string, context = 'timestamp'): Date {
  const trimmed = text.trim();
  const m = DATE.exec(trimmed) ?? DATE_TIME.exec(trimmed);
  if (!m) throw new InvalidInput(`${context}: "${text}" is not a date (yyyy-MM-dd) or date-time (yyyy-MM-dd HH:mm:ss)`);
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1);
  const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s));
  if (date.getUTCMonth() !== +mo! - 1 || date.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +s > 59) {
    throw new InvalidInput(`${context}: "${text}" is not a real calendar date`);
  }
  return date;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatDate(t: Date): string {
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

export function formatTimestamp(t: Date, format: TimestampFormat): string {
  if (format === 'yyyy-MM-dd') return formatDate(t);
  return `${formatDate(t)} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
}

/** The `date` column of a Forecast export: `yyyy-MM-ddTHH:mm:ssZ`, also for daily data. */
export function formatExportDate(t: Date): string {
  return `${formatDate(t)}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}Z`;
}

/** `YYYYMMDD` (the message's dateCreate) to a Date; throws InvalidInput when not a real date. */
export function parseCompactDate(text: string, context = 'dateCreate'): Date {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (!m) throw new InvalidInput(`${context}: "${text}" is not YYYYMMDD`);
  return parseTimestamp(`${m[1]}-${m[2]}-${m[3]}`, context);
}
