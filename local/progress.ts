/**
 * Progress a person can follow: each state as it starts and ends, retries, per-predictor training
 * progress. On a terminal the current work is a live block (spinner, bars) under the finished
 * lines; otherwise (CI, a pipe, a log file) plain lines, with the repetitive polling retries
 * summarised instead of printed one by one.
 */
import type { RunEvent } from './events';

export interface ProgressDisplay {
  handle(event: RunEvent): void;
  /** A line of its own (kept above the live block on a terminal). */
  line(text: string): void;
  /** Stops redrawing and clears the live block. */
  close(): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Error names that only mean "still working, ask again": shown as waiting, not as trouble. */
const POLLING_ERRORS = new Set(['ResourcePending']);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface TrainingBar {
  done: number;
  total: number;
  phase?: string | undefined;
  /** Last milestone printed in plain mode (0–4 quarters); -1 before the first line. */
  quarter: number;
}

interface OpenState {
  readonly name: string;
  readonly type: string;
  readonly since: number;
  polls: number;
}

/** Shared bookkeeping of both displays. */
abstract class BaseDisplay implements ProgressDisplay {
  protected readonly started = Date.now();
  protected readonly open = new Map<string, OpenState>();
  protected readonly bars = new Map<string, TrainingBar>();

  constructor(protected readonly out: ProgressOutput) {}

  protected stamp(at: number): string {
    return `[${seconds(Math.max(0, at - this.started)).padStart(7)}]`;
  }

  abstract line(text: string): void;
  abstract close(): void;
  protected redraw(): void {}

  handle(event: RunEvent): void {
    switch (event.kind) {
      case 'execution-started':
        this.line(`${this.stamp(event.at)} execution ${event.name} started`);
        break;
      case 'execution-ended':
        this.bars.clear();
        this.open.clear();
        this.line(
          `${this.stamp(event.at)} execution ${event.name} ${event.status}` + (event.error ? `: ${event.error}${event.cause ? ` — ${oneLine(event.cause)}` : ''}` : ''),
        );
        break;
      case 'state-entered':
        if (!this.open.has(event.state)) {
          this.open.set(event.state, { name: event.state, type: event.type, since: event.at, polls: 0 });
          if (event.type === 'Task' || event.type === 'Map' || event.type === 'Parallel') this.entered(event.state, event.at);
        }
        break;
      case 'state-exited': {
        const open = this.open.get(event.state);
        this.open.delete(event.state);
        if (open && (open.type === 'Task' || open.type === 'Map' || open.type === 'Parallel')) {
          this.finishBars(event.at);
          const polls = open.polls > 0 ? `, ${open.polls} status check${open.polls === 1 ? '' : 's'}` : '';
          this.line(`${this.stamp(event.at)} ✓ ${event.state} (${seconds(event.at - open.since)}${polls})`);
        } else if (open?.type === 'Choice') {
          this.line(`${this.stamp(event.at)} · ${event.state}`);
        } else if (open?.type === 'Fail' || open?.type === 'Succeed') {
          this.line(`${this.stamp(event.at)} ${open.type === 'Fail' ? '✗' : '✓'} ${event.state}`);
        }
        break;
      }
      case 'state-failed':
        if (!POLLING_ERRORS.has(event.error)) {
          this.line(`${this.stamp(event.at)} ! ${event.state}: ${event.error}${event.cause ? ` — ${oneLine(event.cause)}` : ''}`);
        }
        break;
      case 'state-retried': {
        const open = this.open.get(event.state);
        if (POLLING_ERRORS.has(event.error)) {
          if (open) open.polls += 1;
          this.polled(event.state, open?.polls ?? 0, event.at);
        } else {
          this.line(`${this.stamp(event.at)} ↻ ${event.state}: retry ${event.attempt} after ${event.error}`);
        }
        break;
      }
      case 'state-caught':
        this.line(`${this.stamp(event.at)} ✗ ${event.state}: ${event.error} caught → ${event.next}`);
        this.open.delete(event.state);
        break;
      case 'training': {
        const bar = this.bars.get(event.resource) ?? { done: 0, total: event.total, quarter: -1 };
        bar.done = event.done;
        bar.total = event.total;
        bar.phase = event.phase;
        this.bars.set(event.resource, bar);
        this.trained(event.resource, bar, event.at);
        break;
      }
      case 'note':
        this.line(`${this.stamp(event.at)}   ${event.message}`);
        break;
    }
    this.redraw();
  }

  /** Training bars that reached their total become plain lines when their state ends. */
  private finishBars(at: number): void {
    for (const [resource, bar] of this.bars) {
      if (bar.total > 0 && bar.done >= bar.total) {
        this.bars.delete(resource);
        if (bar.quarter < 4) this.line(`${this.stamp(at)}   ${resource}: ${bar.done}/${bar.total} items ${bar.phase === 'forecasting' ? 'forecast' : 'trained'}`);
      }
    }
  }

  protected entered(_state: string, _at: number): void {}
  protected polled(_state: string, _polls: number, _at: number): void {}
  protected trained(_resource: string, _bar: TrainingBar, _at: number): void {}
}

/** A Lambda error's Cause is a JSON document: show its message. */
function oneLine(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // plain text
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** Plain lines: for CI logs and pipes. */
export class PlainProgress extends BaseDisplay {
  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  protected override entered(state: string, at: number): void {
    this.line(`${this.stamp(at)} ▶ ${state}`);
  }

  protected override polled(state: string, polls: number, at: number): void {
    // The first poll says we wait; then every 10th, so a long wait still shows life.
    if (polls === 1 || polls % 10 === 0) this.line(`${this.stamp(at)}   ${state}: waiting for Forecast jobs (${polls} status check${polls === 1 ? '' : 's'})`);
  }

  protected override trained(resource: string, bar: TrainingBar, at: number): void {
    // First report, then each quarter reached: enough to follow, few enough for a log.
    const quarter = bar.total > 0 ? Math.floor((4 * bar.done) / bar.total) : 0;
    if (quarter > bar.quarter) {
      bar.quarter = quarter;
      this.line(`${this.stamp(at)}   ${resource}: ${bar.phase ? `${bar.phase} ` : ''}${bar.done}/${bar.total} items`);
    }
  }

  close(): void {}
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Live block on a terminal: finished lines scroll above, the current work redraws in place. */
export class TtyProgress extends BaseDisplay {
  private liveLines = 0;
  private frame = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(out: ProgressOutput) {
    super(out);
    this.timer = setInterval(() => {
      this.frame += 1;
      this.redraw();
    }, 120);
    this.timer.unref();
  }

  private clearLive(): string {
    if (this.liveLines === 0) return '';
    const text = `\x1b[${this.liveLines}A` + '\x1b[2K\n'.repeat(this.liveLines) + `\x1b[${this.liveLines}A`;
    this.liveLines = 0;
    return text;
  }

  line(text: string): void {
    this.out.write(`${this.clearLive()}${text}\n`);
    this.redraw();
  }

  protected override redraw(): void {
    const width = Math.max(40, (this.out.columns || 100) - 1);
    const lines: string[] = [];
    const now = Date.now();
    for (const open of this.open.values()) {
      if (open.type !== 'Task' && open.type !== 'Map' && open.type !== 'Parallel') continue;
      const waiting = open.polls > 0 ? `  waiting for Forecast jobs (${open.polls} status check${open.polls === 1 ? '' : 's'})` : '';
      lines.push(`${SPINNER[this.frame % SPINNER.length]} ${open.name}  ${seconds(now - open.since)}${waiting}`);
    }
    const labelWidth = Math.min(36, Math.max(0, ...[...this.bars.keys()].map((k) => k.length)));
    for (const [resource, bar] of this.bars) {
      const size = 24;
      const filled = bar.total > 0 ? Math.round((size * bar.done) / bar.total) : 0;
      const label = resource.length > labelWidth ? `${resource.slice(0, labelWidth - 1)}…` : resource.padEnd(labelWidth);
      lines.push(`    ${label} ${'█'.repeat(filled)}${'░'.repeat(size - filled)} ${String(bar.done).padStart(String(bar.total).length)}/${bar.total} items${bar.phase ? ` (${bar.phase})` : ''}`);
    }
    const text = lines.map((l) => `\x1b[2K${l.length > width ? l.slice(0, width) : l}\n`).join('');
    const up = this.liveLines > 0 ? `\x1b[${this.liveLines}A` : '';
    // Clear lines left over when the block shrank.
    const extra = Math.max(0, this.liveLines - lines.length);
    const cleanup = extra > 0 ? '\x1b[2K\n'.repeat(extra) + `\x1b[${extra}A` : '';
    this.out.write(up + text + cleanup);
    this.liveLines = lines.length;
  }

  protected override trained(_resource: string, bar: TrainingBar): void {
    // The live bar shows progress; the closing line is printed once, when the state ends.
    bar.quarter = -1;
  }

  close(): void {
    clearInterval(this.timer);
    this.out.write(this.clearLive());
  }
}

/** The display that suits the output: live on a terminal, plain lines elsewhere. */
export function createProgress(out: ProgressOutput, forcePlain = false): ProgressDisplay {
  return out.isTTY && !forcePlain && process.env.TERM !== 'dumb' ? new TtyProgress(out) : new PlainProgress(out);
}
