/**
 * Forecast frequencies (forecast-api.md, "Limits on parameters"): an integer and a unit,
 * `1min`–`59min`, `1H`–`23H`, `1D`–`6D`, `1W`–`4W`, `1M`–`11M`, `1Y`, and the older bare
 * forms `Y|M|W|D|H|30min|15min|10min|5min|1min`. All date arithmetic is in UTC.
 */
import { InvalidInput } from './errors';

export type FrequencyUnit = 'min' | 'H' | 'D' | 'W' | 'M' | 'Y';
export interface Frequency {
  readonly count: number;
  readonly unit: FrequencyUnit;
  /** Canonical spelling, e.g. `D`, `15min`, `3M`. */
  readonly text: string;
}

const MAX_COUNT: Record<FrequencyUnit, number> = { min: 59, H: 23, D: 6, W: 4, M: 11, Y: 1 };
const FREQUENCY_PATTERN = /^(\d{0,2})(min|H|D|W|M|Y)$/;

export function parseFrequency(text: string): Frequency {
  const match = FREQUENCY_PATTERN.exec(text);
  if (!match) {
    throw new InvalidInput(
      `Frequency "${text}" is not a Forecast frequency (expected e.g. D, W, M, Y, H, 15min, 2W, 3M)`,
    );
  }
  const unit = match[2] as FrequencyUnit;
  const count = match[1] === '' ? 1 : Number(match[1]);
  if (count < 1 || count > MAX_COUNT[unit]) {
    throw new InvalidInput(`Frequency "${text}": ${unit} takes a count from 1 to ${MAX_COUNT[unit]}, got ${count}`);
  }
  const canonical = unit === 'min' ? `${count}min` : count === 1 ? unit : `${count}${unit}`;
  return { count, unit, text: canonical };
}

export function isFrequency(text: string): boolean {
  try {
    parseFrequency(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Season length for ETS/ARIMA, from the R `ts` frequency table used by Forecast's
 * recipes (Y 1, M 12, W 52, D 7, H 24, 30min 2, …), generalised to multiples.
 */
export function seasonLength(freq: Frequency): number {
  const perCycle = (cycle: number) => {
    const m = cycle / freq.count;
    return Number.isInteger(m) && m > 1 ? m : 1;
  };
  switch (freq.unit) {
    case 'min':
      return perCycle(60);
    case 'H':
      return perCycle(24);
    case 'D':
      return freq.count === 1 ? 7 : 1;
    case 'W':
      return perCycle(52);
    case 'M':
      return perCycle(12);
    case 'Y':
      return 1;
  }
}

const MS: Partial<Record<FrequencyUnit, number>> = { min: 60_000, H: 3_600_000, D: 86_400_000, W: 604_800_000 };

const lastDayOfMonth = (year: number, month: number) => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/** Whether `t` falls on the last day of its month (a month-end calendar: Jan 31, Feb 29, Jun 30). */
export function isMonthEnd(t: Date): boolean {
  return t.getUTCDate() === lastDayOfMonth(t.getUTCFullYear(), t.getUTCMonth());
}

/**
 * `t` moved by `steps` periods of `freq`, on `t`'s own calendar. Months keep the day of the month
 * and clamp it to a shorter month's last day (Jan 30 + 1 month = Feb 29, + 2 = Mar 30); a month
 * end stays a month end (Feb 29 + 1 month = Mar 31, Mar 31 + 3 months = Jun 30), so month-end and
 * quarter-end data lie on their grid.
 */
export function addPeriods(t: Date, freq: Frequency, steps: number): Date {
  const fixed = MS[freq.unit];
  if (fixed !== undefined) return new Date(t.getTime() + fixed * freq.count * steps);
  const months = (freq.unit === 'Y' ? 12 : 1) * freq.count * steps;
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth() + months;
  const targetYear = y + Math.floor(m / 12);
  const targetMonth = ((m % 12) + 12) % 12;
  const lastDay = lastDayOfMonth(targetYear, targetMonth);
  return new Date(
    Date.UTC(
      targetYear,
      targetMonth,
      isMonthEnd(t) ? lastDay : Math.min(t.getUTCDate(), lastDay),
      t.getUTCHours(),
      t.getUTCMinutes(),
      t.getUTCSeconds(),
    ),
  );
}

/** Number of whole periods from `from` to `to` (exact when both lie on the same grid). */
export function periodsBetween(from: Date, to: Date, freq: Frequency): number {
  const fixed = MS[freq.unit];
  if (fixed !== undefined) return Math.round((to.getTime() - from.getTime()) / (fixed * freq.count));
  const months =
    (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth());
  return Math.round(months / ((freq.unit === 'Y' ? 12 : 1) * freq.count));
}

/** Start of the period of `freq` that contains `t` (weeks start on Monday, as ISO weeks). */
export function periodStart(t: Date, freq: Frequency): Date {
  const y = t.getUTCFullYear();
  const mo = t.getUTCMonth();
  const d = t.getUTCDate();
  switch (freq.unit) {
    case 'min': {
      const minutes = Math.floor(t.getUTCMinutes() / freq.count) * freq.count;
      return new Date(Date.UTC(y, mo, d, t.getUTCHours(), minutes));
    }
    case 'H': {
      const hours = Math.floor(t.getUTCHours() / freq.count) * freq.count;
      return new Date(Date.UTC(y, mo, d, hours));
    }
    case 'D':
      return new Date(Date.UTC(y, mo, d));
    case 'W': {
      const day = new Date(Date.UTC(y, mo, d));
      const sinceMonday = (day.getUTCDay() + 6) % 7;
      return new Date(day.getTime() - sinceMonday * 86_400_000);
    }
    case 'M':
      return new Date(Date.UTC(y, mo - (mo % freq.count), 1));
    case 'Y':
      return new Date(Date.UTC(y, 0, 1));
  }
}

/**
 * The start of the period of `freq` that holds `t`, on the data's own calendar: the grid through
 * `anchor` (a timestamp of the data). Weekly data on Wednesdays has Wednesday-to-Tuesday weeks,
 * monthly data on the 15th has periods from the 15th, month-end data periods ending on month ends
 * (and `3M` quarter-end data its quarters), so forecasts carry the dates the data carries. Daily
 * and shorter periods keep their fixed boundaries (`periodStart`).
 */
export function anchoredPeriodStart(t: Date, freq: Frequency, anchor: Date): Date {
  const day = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (freq.unit) {
    case 'W': {
      const step = MS.W! * freq.count;
      const a = day(anchor);
      return new Date(a + Math.floor((day(t) - a) / step) * step);
    }
    case 'M':
    case 'Y': {
      const a = new Date(day(anchor));
      const months = (freq.unit === 'Y' ? 12 : 1) * freq.count;
      const between = (t.getUTCFullYear() - a.getUTCFullYear()) * 12 + (t.getUTCMonth() - a.getUTCMonth());
      const k = Math.floor(between / months);
      const start = addPeriods(a, freq, k);
      return start.getTime() <= t.getTime() ? start : addPeriods(a, freq, k - 1);
    }
    default:
      return periodStart(t, freq);
  }
}

/** Whether the frequency is daily or coarser (timestamps carry no time of day). */
export function isDateOnly(freq: Frequency): boolean {
  return freq.unit === 'D' || freq.unit === 'W' || freq.unit === 'M' || freq.unit === 'Y';
}
