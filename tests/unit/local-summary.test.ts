import { describe, expect, it } from 'vitest';
import { formatDataIssues, formatSummaryTable, type RunSummary } from '../../local/summary';

const summary: RunSummary = {
  runId: 'demo_2025_02_01',
  dataName: 'demo',
  dateCreate: '20250201',
  status: 'PARTIAL',
  reason: null,
  cleanupError: null,
  postDeliveryError: null,
  failedModels: ['PROPHET'],
  dataIssues: [],
  forecastRows: 20,
  models: [
    { model: 'ETS', predictorName: 'p1', items: 2, forecastRows: 10, backtest: { AVG_WQL: 0.1, WAPE: 0.2, RMSE: 3 }, realised: { WAPE: 0.3 } },
    { model: 'NPTS', predictorName: 'p2', items: 2, forecastRows: 10, backtest: { AVG_WQL: 0.05, WAPE: 0.25, RMSE: 4 }, realised: { WAPE: 0.2 } },
  ],
};

describe('Local summary: formatSummaryTable', () => {
  it('shows one aligned row per model, marks the best value per metric and lists failed models', () => {
    // Act
    const lines = formatSummaryTable(summary).split('\n');

    // Assess
    expect(lines[0]).toMatch(/^model\s+items\s+rows\s+bt wQL\s+bt wape\s+bt rmse\s+bt mape\s+bt mase\s+val wape\s*$/);
    expect(lines[2]).toMatch(/^ETS\s+2\s+10\s+0\.100\s+0\.200\*\s+3\.00\*/);
    expect(lines[3]).toMatch(/^NPTS\s+2\s+10\s+0\.050\*\s+0\.250\s+4\.00\s+–\s+–\s+0\.200\*/);
    expect(lines[4]).toMatch(/^PROPHET\s+–\s+0\s+failed/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});

describe('Local summary: formatDataIssues', () => {
  it('lists the first quarantined items with their reasons, counts the rest, and shows every warning', () => {
    // Prepare
    const issues = [
      ...Array.from({ length: 7 }, (_, i) => ({ issue: 'QUARANTINED', itemId: `item_${i}`, dimensions: i === 0 ? '{"store":"s1"}' : null, reason: 'a single data point' })),
      { issue: 'STALE_DATA', itemId: null, dimensions: null, reason: 'the target data ends 2025-01-28' },
    ];

    // Act
    const lines = formatDataIssues(issues);

    // Assess
    expect(lines[0]).toMatch(/quarantined: 7 items left out of the run/);
    expect(lines[1]).toBe('    "item_0" {"store":"s1"}: a single data point');
    expect(lines).toContain('    … and 2 more');
    expect(lines.at(-1)).toBe('  warning (STALE_DATA): the target data ends 2025-01-28');
    expect(formatDataIssues([])).toEqual([]);
  });
});
