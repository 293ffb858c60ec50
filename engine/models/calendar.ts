/**
 * Calendar helpers for the models that use timestamps (NPTS' seasonal features, Prophet):
 * the unit of a regular grid, its continuation into the future, and a stand-in grid for
 * series given without timestamps.
 */

export type CalendarUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The calendar unit of a regular grid, from its smallest spacing. */
export function calendarUnit(timestamps: readonly Date[]): CalendarUnit {
  let step = Infinity;
  for (let i = 1; i < timestamps.length; i++) {
    const d = timestamps[i]!.getTime() - timestamps[i - 1]!.getTime();
    if (d > 0 && d < step) step = d;
  }
  if (step < HOUR) return 'minute';
  if (step < DAY) return 'hour';
  if (step < 7 * DAY) return 'day';
  if (step < 28 * DAY) return 'week';
  if (step < 365 * DAY) return 'month';
  return 'year';
}

/** `horizon` timestamps continuing the grid: fixed spacing, or whole months for monthly/yearly grids. */
export function futureTimestamps(timestamps: readonly Date[], horizon: number): Date[] {
  const n = timestamps.length;
  const last = timestamps[n - 1]!;
  const prev = timestamps[n - 2]!;
  const unit = calendarUnit(timestamps);
  const out: Date[] = [];
  if (unit === 'month' || unit === 'year') {
    const months = (last.getUTCFullYear() - prev.getUTCFullYear()) * 12 + (last.getUTCMonth() - prev.getUTCMonth()) || 1;
    for (let i = 1; i <= horizon; i++) {
      out.push(new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + months * i, last.getUTCDate(), last.getUTCHours())));
    }
    return out;
  }
  const step = last.getTime() - prev.getTime();
  for (let i = 1; i <= horizon; i++) out.push(new Date(last.getTime() + step * i));
  return out;
}

/**
 * A stand-in grid for a series without timestamps, guessed from its season length (the R `ts`
 * frequency table of forecast-api.md: 24 hourly, 7 daily, 52 weekly, 12 monthly, 4 quarterly,
 * 2/4/6/12/60 sub-hourly; otherwise daily), ending at 2000-01-01 plus the series length.
 */
export function syntheticTimestamps(n: number, seasonLength: number): Date[] {
  const start = Date.UTC(2000, 0, 1);
  const fixed: Record<number, number> = { 24: HOUR, 7: DAY, 52: 7 * DAY, 2: 30 * MINUTE, 6: 10 * MINUTE, 60: MINUTE };
  const out: Date[] = [];
  if (seasonLength === 12 || seasonLength === 4) {
    const months = 12 / seasonLength;
    for (let i = 0; i < n; i++) out.push(new Date(Date.UTC(2000, months * i, 1)));
    return out;
  }
  const step = fixed[seasonLength] ?? DAY;
  for (let i = 0; i < n; i++) out.push(new Date(start + step * i));
  return out;
}
