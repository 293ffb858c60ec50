/**
 * The run report in a real headless Chromium (from the npm package `@sparticuz/chromium`, so
 * `npm ci` is the whole set-up; driven by playwright-core):
 * the charts render (SVG paths with data), the item selector switches them, nothing fails in
 * the page, and it needs no network. The warehouse holds the demo input and stand-in
 * forecasts/metrics written with the warehouse module's writers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import packagedChromium from '@sparticuz/chromium';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import type { Warehouse } from '../../shared/ports';
import { insertForecastRows, insertMetricRows, writeRunStatus, type ForecastRow, type MetricRow } from '../../shared/warehouse/writers';
import { dateFromCompact, demoDays } from '../../local/demo-data';
import { seedDemoDataset } from '../../local/seed';
import { writeRunReport } from '../../local/report';

// The package's flags (made for Lambda) less the two that relax the page's security, plus
// nothing in the background that could reach the network.
const RELAXED = new Set(['--disable-web-security', '--allow-running-insecure-content']);
const CHROMIUM_ARGS = [
  ...packagedChromium.args.filter((arg) => !RELAXED.has(arg)),
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];
const DATA_NAME = 'report_demo';
const RUN_ID = 'report_demo_2025_02_01';
const START = dateFromCompact('20250201');
const HORIZON = 28;
// Six models with Amazon Forecast's long names and every metric column: the crowded case of the layout.
const MODELS = ['ARIMA', 'CNN_QR', 'DEEP_AR_PLUS', 'ETS', 'NPTS', 'PROPHET'];
const WIDTHS = [1000, 1100, 1280, 1440, 1600, 1920];
const TYPES: [string, number][] = [['p5', 0.55], ['p20', 0.8], ['p50', 1], ['p80', 1.2], ['p95', 1.5]];

/** Stand-in forecasts: each item's mean of the last 4 weeks, scaled per model, with quantile fans. */
function* standInForecasts(): Generator<ForecastRow> {
  const recent = new Map<string, number[]>();
  for (const day of demoDays({ items: 6, forecastStart: START, horizon: HORIZON })) {
    if (day.timestamp < START && day.sales !== null && day.sales >= 0) {
      const list = recent.get(day.itemId) ?? [];
      list.push(day.sales);
      recent.set(day.itemId, list.slice(-28));
    }
  }
  for (const [itemId, values] of recent) {
    const level = values.reduce((a, b) => a + b, 0) / values.length;
    for (const [m, model] of MODELS.entries()) {
      for (let h = 0; h < HORIZON; h += 1) {
        const date = new Date(START.getTime() + h * 86_400_000);
        const point = level * (0.9 + 0.1 * m) * (1 + 0.15 * Math.sin((2 * Math.PI * h) / 7));
        for (const [type, factor] of TYPES) yield { model, predictorName: `${DATA_NAME}_${model}`, itemId, dimensions: null, date, forecastType: type, value: point * factor };
      }
    }
  }
}

function standInMetrics(): MetricRow[] {
  return MODELS.flatMap((model, m): MetricRow[] => {
    const base = { model, predictorName: `${DATA_NAME}_${model}` };
    return [
      { ...base, source: 'BACKTEST', metric: 'AVG_WQL', forecastType: null, value: 0.2 + 0.03 * m },
      { ...base, source: 'BACKTEST', metric: 'WAPE', forecastType: null, value: 0.25 + 0.02 * m },
      { ...base, source: 'BACKTEST', metric: 'RMSE', forecastType: null, value: 9 + m },
      { ...base, source: 'BACKTEST', metric: 'MAPE', forecastType: null, value: 0.31 + 0.02 * m },
      { ...base, source: 'BACKTEST', metric: 'MASE', forecastType: null, value: 0.8 + 0.1 * m },
      { ...base, source: 'BACKTEST', metric: 'WQL', forecastType: 'p50', value: 0.25 + 0.02 * m },
      { ...base, source: 'REALISED', metric: 'AVG_WQL', forecastType: null, value: 0.22 + 0.01 * m },
      { ...base, source: 'REALISED', metric: 'WAPE', forecastType: null, value: 0.27 - 0.02 * m },
      { ...base, source: 'REALISED', metric: 'RMSE', forecastType: null, value: 11.5 - m },
      { ...base, source: 'REALISED', metric: 'MAPE', forecastType: null, value: 0.33 - 0.01 * m },
    ];
  });
}

describe('Report: the HTML page in headless Chromium', () => {
  let dir: string;
  let file: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-browser-'));
    const warehouse: Warehouse = await openDuckDbWarehouse({ path: join(dir, 'warehouse.duckdb') });
    await seedDemoDataset(warehouse, DATA_NAME, { items: 6, forecastStart: START, horizon: HORIZON });
    const run = { dataName: DATA_NAME, runId: RUN_ID };
    await insertForecastRows(warehouse, run, standInForecasts());
    await insertMetricRows(warehouse, run, standInMetrics());
    await writeRunStatus(warehouse, run, { dateCreate: '20250201', status: 'SUCCEEDED', reason: null, failedModels: [], forecastRows: 0, metricRows: 0 });
    file = join(dir, 'reports', `${RUN_ID}.html`);
    await writeRunReport(warehouse, RUN_ID, file);
    await warehouse.close();

    browser = await chromium.launch({ executablePath: await packagedChromium.executablePath(), args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) requests.push(request.url());
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws the fan charts of the first item: bands, medians, history and validation actuals', async () => {
    // Assess
    const fans = await page.locator('#fans .fan-card').count();
    expect(fans).toBe(MODELS.length);
    const bands = await page.locator('#fans svg path.band').evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? ''));
    expect(bands.length).toBe(MODELS.length * 2);
    expect(bands.every((d) => d.startsWith('M') && d.endsWith('Z') && d.split('L').length > HORIZON)).toBe(true);
    expect(await page.locator('#overlay svg path.p50').count()).toBe(MODELS.length);
    expect((await page.locator('#overlay svg path.history').getAttribute('d'))!.length).toBeGreaterThan(100);
    expect(await page.locator('#overlay svg circle.actual').count()).toBe(HORIZON);
    expect(await page.locator('#overlay svg rect.promo').count()).toBeGreaterThan(0);
  });

  it('switches every chart when another item is selected', async () => {
    // Prepare
    const before = await page.locator('#overlay svg path.p50').first().getAttribute('d');
    const options = await page.locator('#item-select option').allTextContents();

    // Act
    await page.selectOption('#item-select', { index: 3 });

    // Assess
    expect(options).toHaveLength(6);
    const after = await page.locator('#overlay svg path.p50').first().getAttribute('d');
    expect(after).not.toBe(before);
    expect(await page.locator('#overlay svg').getAttribute('aria-label')).toContain(options[3]!);
    expect(await page.locator('#fans svg path.band').count()).toBe(MODELS.length * 2);
  });

  it('compares the models: metric table with the best value marked, bar charts', async () => {
    // Assess
    const rows = await page.locator('#metrics-table tbody tr').allTextContents();
    expect(rows).toHaveLength(MODELS.length);
    expect(await page.locator('#metrics-table td.best').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#bar-wql rect.bar').count()).toBe(MODELS.length * 2);
    expect(await page.locator('#bar-wape rect.bar').count()).toBe(MODELS.length * 2);
  });

  it('lays out the comparison without overlap at every width from 1,000 to 1,920 px: whole table, charts apart, labels apart', async () => {
    interface Box { left: number; right: number; top: number; bottom: number }
    const overlap = (a: Box, b: Box) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    for (const width of WIDTHS) {
      // Act
      await page.setViewportSize({ width, height: 1100 });
      const layout = await page.evaluate(() => {
        // Runs in the page (the project's TypeScript has no DOM library).
        const document = (globalThis as any).document;
        const box = (e: any): Box => {
          const r = e.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
        };
        const table = document.getElementById('metrics-table');
        const charts: any[] = ['bar-wql', 'bar-wape'].map((id) => document.querySelector(`#${id} svg`));
        return {
          table: box(table),
          tableHolder: { scrollWidth: table.parentElement.scrollWidth as number, clientWidth: table.parentElement.clientWidth as number },
          section: box(document.getElementById('comparison')),
          headers: [...table.querySelectorAll('thead tr:last-child th')].map((th: any) => th.textContent as string),
          charts: charts.map(box),
          labels: charts.map((svg) => [...svg.querySelectorAll('text')].map((t: any) => ({ text: t.textContent as string, ...box(t) }))),
        };
      });

      // Assess
      expect(layout.headers, `${width}px`).toEqual(['model', 'avg wQL', 'WAPE', 'RMSE', 'MAPE', 'MASE', 'avg wQL', 'WAPE', 'RMSE', 'MAPE']);
      expect(layout.tableHolder.scrollWidth, `${width}px: the whole table is in view`).toBeLessThanOrEqual(layout.tableHolder.clientWidth);
      expect(layout.table.right, `${width}px`).toBeLessThanOrEqual(layout.section.right);
      for (const chart of layout.charts) {
        expect(overlap(layout.table, chart), `${width}px: table and chart`).toBe(false);
        expect(chart.right, `${width}px`).toBeLessThanOrEqual(layout.section.right);
      }
      expect(overlap(layout.charts[0]!, layout.charts[1]!), `${width}px: the two charts`).toBe(false);
      for (const labels of layout.labels) {
        for (const [i, a] of labels.entries()) {
          for (const b of labels.slice(i + 1)) expect(overlap(a, b), `${width}px: "${a.text}" and "${b.text}"`).toBe(false);
        }
      }
    }
    await page.setViewportSize({ width: 1400, height: 1100 });
  });

  it('loads nothing from the network and logs no errors; a screenshot is kept for a look', async () => {
    // Act
    await page.selectOption('#item-select', { index: 0 });
    await page.screenshot({ path: join(process.env.REPORT_SCREENSHOT_DIR ?? dir, 'report.png'), fullPage: true });

    // Assess
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
  });
});
