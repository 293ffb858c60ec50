import { describe, expect, it } from 'vitest';
import { dateFromCompact, demoDays, demoItemIds, DEMO_HISTORY_DAYS } from '../../local/demo-data';

const options = { items: 12, forecastStart: dateFromCompact('20250201'), horizon: 28 };

describe('Local demo data: demoDays', () => {
  it('is deterministic: the same options give the same rows', () => {
    // Act
    const first = [...demoDays(options)];
    const second = [...demoDays(options)];

    // Assess
    expect(second).toEqual(first);
  });

  it('covers 2+ years of history and the horizon after the cut-off, daily, for each item', () => {
    // Act
    const rows = [...demoDays(options)];

    // Assess
    expect(new Set(rows.map((r) => r.itemId))).toEqual(new Set(demoItemIds(12)));
    expect(rows).toHaveLength(12 * (DEMO_HISTORY_DAYS + 28));
    expect(DEMO_HISTORY_DAYS).toBeGreaterThan(2 * 366);
    const milk = rows.filter((r) => r.itemId === 'milk_1l');
    expect(milk.at(-1)!.timestamp.toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(milk[DEMO_HISTORY_DAYS - 1]!.timestamp.toISOString()).toBe('2025-01-31T00:00:00.000Z');
  });

  it('has gaps and negatives in the history only, and clean validation actuals after the cut-off', () => {
    // Act
    const rows = [...demoDays({ ...options, items: 36 })];
    const cutOff = options.forecastStart.getTime();
    const history = rows.filter((r) => r.timestamp.getTime() < cutOff);
    const validation = rows.filter((r) => r.timestamp.getTime() >= cutOff);

    // Assess
    expect(history.some((r) => r.sales === null)).toBe(true);
    expect(history.some((r) => r.sales !== null && r.sales < 0)).toBe(true);
    expect(validation.every((r) => r.sales !== null && r.sales >= 0)).toBe(true);
    expect(validation.some((r) => r.promotion === 1)).toBe(true);
  });

  it('has weekly and yearly seasonality and promotions that lift sales', () => {
    // Act
    const rows = [...demoDays({ ...options, items: 36 })].filter((r) => r.sales !== null && r.sales >= 0);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const beer = rows.filter((r) => r.itemId === 'beer_6pk');
    const iceCream = rows.filter((r) => r.itemId === 'ice_cream_vanilla');

    // Assess
    const saturday = mean(beer.filter((r) => r.timestamp.getUTCDay() === 6 && !r.promotion).map((r) => r.sales!));
    const tuesday = mean(beer.filter((r) => r.timestamp.getUTCDay() === 2 && !r.promotion).map((r) => r.sales!));
    expect(saturday / tuesday).toBeGreaterThan(1.6);
    const july = mean(iceCream.filter((r) => r.timestamp.getUTCMonth() === 6).map((r) => r.sales!));
    const january = mean(iceCream.filter((r) => r.timestamp.getUTCMonth() === 0).map((r) => r.sales!));
    expect(july / january).toBeGreaterThan(2.5);
    const promo = mean(rows.filter((r) => r.promotion === 1).map((r) => r.sales! / 1));
    const regular = mean(rows.filter((r) => r.promotion === 0).map((r) => r.sales!));
    expect(promo).toBeGreaterThan(regular * 1.2);
  });

  it('extends beyond the named catalogue with distinct generated items', () => {
    // Act
    const ids = demoItemIds(100);

    // Assess
    expect(new Set(ids).size).toBe(100);
    expect(ids[36]).toMatch(/_v001$/);
  });
});
