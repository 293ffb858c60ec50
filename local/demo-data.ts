/**
 * The demo dataset: daily unit sales of a small grocery store's items, generated
 * deterministically (same arguments → same rows, on every machine). What it shows:
 * weekly and yearly seasonality, a trend, promotions (a related series known ahead, with the
 * price cut that comes with them), returns booked as negative sales, missing days, a stock-out,
 * a late product launch — and actuals after the training cut-off to validate forecasts against.
 */
import { mulberry32 } from '../engine/models/random';

/** One day of one item: the target (missing when `sales` is null) and the related features. */
export interface DemoDay {
  readonly itemId: string;
  readonly timestamp: Date;
  /** Units sold; null = no row that day (a gap); negative = more returns than sales. */
  readonly sales: number | null;
  readonly price: number;
  /** 1 on promotion days, else 0. */
  readonly promotion: number;
}

export interface DemoOptions {
  /** How many items (the first 36 are named products; more are generated). */
  readonly items: number;
  /** First day of the forecast horizon: training data ends the day before. */
  readonly forecastStart: Date;
  /** Days of actuals (and related data) after the cut-off. */
  readonly horizon: number;
  /** Days of history before the cut-off (default 2 years and a bit: 800). */
  readonly historyDays?: number;
}

export const DEMO_DEFAULT_ITEMS = 36;
export const DEMO_HISTORY_DAYS = 800;

type Season = 'summer' | 'winter' | 'christmas' | 'flat' | 'spring';
interface Product {
  readonly name: string;
  readonly level: number;
  readonly price: number;
  readonly season: Season;
  /** Weekend uplift (1 = none). */
  readonly weekend: number;
}

/** The named catalogue: what a user recognises in the report's item selector. */
const CATALOGUE: readonly Product[] = [
  { name: 'milk_1l', level: 120, price: 1.19, season: 'flat', weekend: 1.25 },
  { name: 'bread_white', level: 90, price: 1.49, season: 'flat', weekend: 1.4 },
  { name: 'eggs_12', level: 45, price: 3.29, season: 'spring', weekend: 1.3 },
  { name: 'bananas_kg', level: 80, price: 1.09, season: 'flat', weekend: 1.2 },
  { name: 'ice_cream_vanilla', level: 25, price: 4.99, season: 'summer', weekend: 1.6 },
  { name: 'sparkling_water_6pk', level: 40, price: 2.99, season: 'summer', weekend: 1.35 },
  { name: 'charcoal_5kg', level: 6, price: 8.99, season: 'summer', weekend: 2.0 },
  { name: 'sunscreen_spf50', level: 4, price: 9.49, season: 'summer', weekend: 1.5 },
  { name: 'tomato_soup', level: 18, price: 1.79, season: 'winter', weekend: 1.1 },
  { name: 'hot_chocolate', level: 9, price: 3.49, season: 'winter', weekend: 1.3 },
  { name: 'chocolate_box', level: 7, price: 6.99, season: 'christmas', weekend: 1.5 },
  { name: 'gingerbread', level: 3, price: 2.49, season: 'christmas', weekend: 1.4 },
  { name: 'coffee_beans_1kg', level: 14, price: 12.99, season: 'flat', weekend: 1.15 },
  { name: 'orange_juice_1l', level: 35, price: 2.29, season: 'winter', weekend: 1.3 },
  { name: 'yogurt_plain', level: 50, price: 0.89, season: 'flat', weekend: 1.1 },
  { name: 'cheddar_200g', level: 30, price: 2.79, season: 'flat', weekend: 1.35 },
  { name: 'pasta_500g', level: 38, price: 1.09, season: 'winter', weekend: 1.2 },
  { name: 'rice_1kg', level: 22, price: 1.99, season: 'flat', weekend: 1.15 },
  { name: 'olive_oil_750ml', level: 11, price: 7.49, season: 'flat', weekend: 1.25 },
  { name: 'strawberries_500g', level: 30, price: 2.99, season: 'spring', weekend: 1.5 },
  { name: 'watermelon', level: 10, price: 3.99, season: 'summer', weekend: 1.7 },
  { name: 'lettuce', level: 28, price: 0.99, season: 'summer', weekend: 1.2 },
  { name: 'potatoes_2kg', level: 26, price: 2.49, season: 'winter', weekend: 1.3 },
  { name: 'apples_kg', level: 42, price: 2.19, season: 'flat', weekend: 1.2 },
  { name: 'beer_6pk', level: 33, price: 6.49, season: 'summer', weekend: 2.1 },
  { name: 'red_wine', level: 12, price: 8.99, season: 'christmas', weekend: 1.9 },
  { name: 'toilet_paper_9', level: 19, price: 4.49, season: 'flat', weekend: 1.3 },
  { name: 'dish_soap', level: 8, price: 1.89, season: 'flat', weekend: 1.1 },
  { name: 'batteries_aa', level: 5, price: 5.99, season: 'christmas', weekend: 1.2 },
  { name: 'flowers_bouquet', level: 6, price: 9.99, season: 'spring', weekend: 1.8 },
  { name: 'cereal_oats', level: 16, price: 3.19, season: 'winter', weekend: 1.1 },
  { name: 'butter_250g', level: 27, price: 2.39, season: 'christmas', weekend: 1.3 },
  { name: 'chicken_breast', level: 24, price: 6.49, season: 'flat', weekend: 1.45 },
  { name: 'salmon_fillet', level: 9, price: 8.49, season: 'flat', weekend: 1.6 },
  { name: 'tea_bags_80', level: 10, price: 2.69, season: 'winter', weekend: 1.05 },
  { name: 'lemonade_2l', level: 15, price: 1.99, season: 'summer', weekend: 1.5 },
];

function normal(random: () => number): number {
  // Box–Muller; 1 - u keeps log away from 0.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}

const DAY_MS = 86_400_000;

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS);
}

/** Yearly multiplier (around 1) for a season profile on a given day. */
function yearly(season: Season, date: Date): number {
  const angle = (2 * Math.PI * dayOfYear(date)) / 365.25;
  switch (season) {
    case 'summer':
      return 1 + 0.6 * Math.cos(angle - (2 * Math.PI * 196) / 365.25); // peaks mid-July
    case 'winter':
      return 1 + 0.35 * Math.cos(angle - (2 * Math.PI * 15) / 365.25); // peaks mid-January
    case 'spring':
      return 1 + 0.3 * Math.cos(angle - (2 * Math.PI * 110) / 365.25); // peaks late April
    case 'christmas': {
      const m = date.getUTCMonth();
      const d = date.getUTCDate();
      if (m === 11 && d <= 24) return 1 + 2.5 * (d / 24); // ramps up to Christmas Eve
      if (m === 11 || (m === 0 && d <= 3)) return 0.8;
      return 0.85 + 0.1 * Math.cos(angle);
    }
    case 'flat':
      return 1 + 0.05 * Math.cos(angle);
  }
}

/** Weekday profile: Friday/Saturday busiest, Sunday short opening hours. */
function weekly(weekend: number, date: Date): number {
  const day = date.getUTCDay(); // 0 = Sunday
  if (day === 6) return weekend;
  if (day === 5) return 1 + (weekend - 1) * 0.7;
  if (day === 0) return 0.75;
  return day === 1 ? 0.9 : 1;
}

function productOf(index: number): Product {
  const named = CATALOGUE[index];
  if (named) return named;
  // Beyond the catalogue (benchmarks with 10×/100× items): variations of catalogue products.
  const random = mulberry32(0x9e3779b9 ^ index);
  const base = CATALOGUE[index % CATALOGUE.length]!;
  return {
    name: `${base.name}_v${String(Math.floor(index / CATALOGUE.length)).padStart(3, '0')}`,
    level: Math.max(2, base.level * (0.3 + 1.4 * random())),
    price: Math.round(base.price * (0.7 + 0.6 * random()) * 100) / 100,
    season: base.season,
    weekend: 1 + (base.weekend - 1) * (0.5 + random()),
  };
}

/** The item ids of a demo of `items` items, in order. */
export function demoItemIds(items: number): string[] {
  return Array.from({ length: items }, (_, i) => productOf(i).name);
}

/** Midnight UTC of a `YYYYMMDD` date. */
export function dateFromCompact(compact: string): Date {
  return new Date(Date.UTC(Number(compact.slice(0, 4)), Number(compact.slice(4, 6)) - 1, Number(compact.slice(6, 8))));
}

/**
 * Every day of every item, item by item, oldest first; `historyDays` before `forecastStart`,
 * `horizon` after it. Rows with `sales: null` are gaps: the target has no row, the related
 * series (known ahead) has one.
 */
export function* demoDays(options: DemoOptions): Generator<DemoDay> {
  const historyDays = options.historyDays ?? DEMO_HISTORY_DAYS;
  const first = options.forecastStart.getTime() - historyDays * DAY_MS;
  const totalDays = historyDays + options.horizon;
  for (let index = 0; index < options.items; index += 1) {
    const product = productOf(index);
    const random = mulberry32(1_000_003 * (index + 1));
    const growthPerYear = -0.1 + 0.35 * random();
    const promoLift = 1.3 + 0.6 * random();
    // Some items have a story: a late launch, a stock-out, more returns than usual.
    const launchDay = index % 12 === 7 ? Math.floor(historyDays * 0.6) : 0;
    const stockOutStart = index % 9 === 4 ? Math.floor(historyDays * (0.3 + 0.3 * random())) : -1;
    const returnRate = index % 10 === 3 ? 0.02 : 0.003;
    let promoLeft = 0;
    for (let day = 0; day < totalDays; day += 1) {
      const timestamp = new Date(first + day * DAY_MS);
      // Promotions: about every five weeks, 3–7 days, decided ahead (known in the future too).
      if (promoLeft === 0 && random() < 1 / 35) promoLeft = 3 + Math.floor(random() * 5);
      const promotion = promoLeft > 0 ? 1 : 0;
      if (promoLeft > 0) promoLeft -= 1;
      const price = Math.round(product.price * (promotion ? 0.8 : 1) * 100) / 100;
      const gapDraw = random();
      const returnDraw = random();
      let sales: number | null;
      if (day < launchDay) {
        sales = null;
      } else if (stockOutStart >= 0 && day >= stockOutStart && day < stockOutStart + 18) {
        sales = null;
      } else {
        const years = day / 365.25;
        const ramp = launchDay > 0 ? Math.min(1, (day - launchDay + 1) / 60) : 1;
        const mean =
          product.level * ramp * (1 + growthPerYear * years) * yearly(product.season, timestamp) * weekly(product.weekend, timestamp) * (promotion ? promoLift : 1);
        const mixed = mean * Math.exp(0.12 * normal(random) - 0.0072);
        sales = poisson(mixed, random);
        // Returns and missing days (data not delivered) in the history only: validation actuals are clean.
        if (day < historyDays && returnDraw < returnRate) sales = -(1 + Math.floor(random() * 4));
        if (day < historyDays && gapDraw < 0.01) sales = null;
      }
      yield { itemId: product.name, timestamp, sales, price, promotion };
    }
  }
}
