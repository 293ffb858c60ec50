import { describe, expect, it } from 'vitest';
import { PlainProgress, TtyProgress, createProgress } from '../../local/progress';
import type { RunEvent } from '../../local/events';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { out: { write: (t: string) => chunks.push(t), isTTY, columns: 100 }, text: () => chunks.join('') };
}

const t0 = Date.now();
const events: RunEvent[] = [
  { kind: 'execution-started', name: 'demo_2025_02_01', at: t0 },
  { kind: 'state-entered', state: 'CreatePredictors', type: 'Task', at: t0 + 10 },
  ...Array.from({ length: 12 }, (_, i): RunEvent => ({ kind: 'state-retried', state: 'CreatePredictors', attempt: i + 1, error: 'ResourcePending', at: t0 + 20 + i })),
  ...Array.from({ length: 9 }, (_, i): RunEvent => ({ kind: 'training', resource: 'demo_ETS', done: i, total: 8, at: t0 + 40 + i })),
  { kind: 'state-retried', state: 'CreatePredictors', attempt: 1, error: 'LimitExceededException', at: t0 + 60 },
  { kind: 'state-exited', state: 'CreatePredictors', type: 'Task', at: t0 + 2010 },
  { kind: 'state-entered', state: 'Notify', type: 'Task', at: t0 + 2020 },
  { kind: 'state-caught', state: 'Notify', next: 'Failure', error: 'ResourceFailed', at: t0 + 2030 },
  { kind: 'execution-ended', name: 'demo_2025_02_01', status: 'FAILED', error: 'PipelineFailed', cause: 'notify failed', at: t0 + 3000 },
];

describe('Local progress: displays', () => {
  it('prints plain lines: states, real retries, a summary of polling, training milestones', () => {
    // Prepare
    const { out, text } = sink(false);
    const display = new PlainProgress(out);

    // Act
    events.forEach((e) => display.handle(e));
    display.close();

    // Assess
    const output = text();
    expect(output).toContain('▶ CreatePredictors');
    expect(output).toMatch(/✓ CreatePredictors \(2\.0 s, 12 status checks\)/);
    expect(output).toContain('CreatePredictors: waiting for Forecast jobs (1 status check)');
    expect(output).toContain('(10 status checks)');
    expect(output).not.toContain('(11 status checks)');
    expect(output).toContain('↻ CreatePredictors: retry 1 after LimitExceededException');
    expect(output.match(/demo_ETS: \d+\/8 items/g)).toEqual(['demo_ETS: 0/8 items', 'demo_ETS: 2/8 items', 'demo_ETS: 4/8 items', 'demo_ETS: 6/8 items', 'demo_ETS: 8/8 items']);
    expect(output).toContain('✗ Notify: ResourceFailed caught → Failure');
    expect(output).toContain('execution demo_2025_02_01 FAILED: PipelineFailed — notify failed');
    expect(output).not.toContain('\x1b[');
  });

  it('draws a live block with bars on a terminal and leaves only finished lines', () => {
    // Prepare
    const { out, text } = sink(true);
    const display = new TtyProgress(out);

    // Act
    events.slice(0, 19).forEach((e) => display.handle(e));
    const live = text();
    events.slice(19).forEach((e) => display.handle(e));
    display.close();

    // Assess
    expect(live).toMatch(/demo_ETS\s+█+░*\s+4\/8 items/);
    expect(live).toContain('waiting for Forecast jobs (12 status checks)');
    expect(text()).toContain('demo_ETS: 8/8 items trained');
    expect(text()).toMatch(/✓ CreatePredictors/);
  });

  it('picks plain lines when the output is not a terminal', () => {
    expect(createProgress(sink(false).out)).toBeInstanceOf(PlainProgress);
    const tty = createProgress(sink(true).out);
    tty.close();
    expect(tty).toBeInstanceOf(process.env.TERM === 'dumb' ? PlainProgress : TtyProgress);
  });
});
