/**
 * The local WorkflowStarter: runs statemachine/forecast.asl.json itself with aws-local-stepfunctions,
 * each Task resolved through template.yaml to the very handler the SAM function deploys.
 * Execution names behave as in Step Functions (registry in the local folder): the same name and
 * input never run twice; the same name with another input is `ExecutionAlreadyExists`.
 */
import './polyfill';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import type { ExecutionDescription, StartedExecution, WorkflowStarter } from '../shared/ports';
import { ConfigurationError } from '../shared/errors';
import { readStateMachineTemplate, substituteDefinition, type FunctionHandler, type StateMachineTemplate } from './template';
import { ExecutionRegistry, inputHash, processAlive, type ExecutionRecord } from './executions';
import { StepCrashed, StepCrashInjector, type StepCrashRule } from './step-faults';
import type { RunEvent, RunEventListener } from './events';

/**
 * How local retries wait: the ASL's own schedule (IntervalSeconds × BackoffRate^n, capped by
 * MaxDelaySeconds) divided by `timeScale`, clamped to [minMs, maxMs]. A wait for pending Forecast
 * jobs is cut short by `wake()` (the runner calls it when the engine finishes a job).
 */
export interface RetryWaits {
  /** 60 → an IntervalSeconds of one minute waits one second locally. */
  readonly timeScale: number;
  readonly minMs: number;
  readonly maxMs: number;
}
export const DEFAULT_RETRY_WAITS: RetryWaits = { timeScale: 60, minMs: 50, maxMs: 5_000 };

export interface LocalWorkflowOptions {
  /** template.yaml of the SAM app (the map from Task placeholders to handlers). */
  readonly templateFile: string;
  readonly registry: ExecutionRegistry;
  readonly onEvent?: RunEventListener;
  readonly retryWaits?: RetryWaits;
  readonly crashRules?: readonly StepCrashRule[];
  /** Task timeout when neither the ASL nor the function sets one (seconds). */
  readonly defaultTaskTimeoutSeconds?: number;
}

/** How the last `startExecution` call went, for the runner to report. */
export type StartOutcome =
  | { readonly kind: 'started'; readonly name: string }
  | { readonly kind: 'resumed'; readonly name: string; readonly previous: ExecutionRecord }
  | { readonly kind: 'existing'; readonly name: string; readonly record: ExecutionRecord; readonly runningElsewhere: boolean };

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** Imports a function's handler module (TypeScript runs through tsx / vitest). */
export async function loadHandler(fn: FunctionHandler): Promise<Handler> {
  const module = (await import(pathToFileURL(fn.file).href)) as Record<string, unknown>;
  const handler = module[fn.exportName];
  if (typeof handler !== 'function') throw new ConfigurationError(`${fn.file} does not export a function named ${fn.exportName}`);
  return handler as Handler;
}
type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const EXECUTION_ARN_PREFIX = 'arn:aws:states:us-east-1:000000000000:execution';

/** Mirrors Lambda's JSON round trip: dates become strings, undefined disappears. */
const viaJson = <T>(value: T): JsonValue => (value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue));

/** A Lambda context object as the runtime passes it (deadline from the function's timeout). */
export function lambdaContext(fn: FunctionHandler) {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: fn.logicalId,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fn.logicalId}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.logicalId}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The step name of a handler file: `lambdas/<step>/handler.ts` → `<step>`. */
export function stepOf(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts.length >= 2 ? parts[parts.length - 2]! : file;
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  MaxAttempts?: number;
}
interface TaskState {
  Type: 'Task';
  Resource: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: Retrier[];
}
type AnyState = { Type: string; Retry?: Retrier[]; [key: string]: unknown };

/**
 * What Step Functions sees when a Lambda function throws: the error's name, and as Cause the
 * JSON document Lambda reports (`{errorType, errorMessage, trace}`) — the Failure step reads it.
 */
export class LambdaFunctionError extends Error {
  constructor(error: unknown) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
    super(JSON.stringify({ errorType: name, errorMessage: message, trace }));
    this.name = name;
  }
}

/** The retrier of a state that handles an error name (Step Functions' order: first match). */
export function matchingRetrier(retriers: readonly Retrier[] | undefined, errorName: string): number {
  return (retriers ?? []).findIndex((r) => r.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || e === 'States.TaskFailed'));
}

/** Every state of a definition, nested Map/Parallel machines included. */
function* allStates(definition: { States: Record<string, AnyState> }): Generator<[string, AnyState]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state];
    const nested = [state.Iterator, state.ItemProcessor, ...(Array.isArray(state.Branches) ? state.Branches : [])];
    for (const machine of nested) {
      if (machine && typeof machine === 'object' && 'States' in machine) yield* allStates(machine as { States: Record<string, AnyState> });
    }
  }
}

/** The local wait before retry number `attempt` (0-based) of a retrier. */
export function retryWaitMs(retrier: Retrier, attempt: number, waits: RetryWaits): number {
  const seconds = Math.min((retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt, retrier.MaxDelaySeconds ?? Infinity);
  return Math.round(Math.min(waits.maxMs, Math.max(waits.minMs, (seconds * 1000) / waits.timeScale)));
}

export class LocalWorkflowStarter implements WorkflowStarter {
  private template?: StateMachineTemplate;
  private readonly running = new Map<string, Promise<ExecutionRecord>>();
  private readonly starting = new Map<string, Promise<StartedExecution>>();
  private readonly handlers = new Map<string, Promise<Handler>>();
  private readonly crashes: StepCrashInjector;
  private readonly retriers = new Map<string, Retrier[]>();
  /** Retries so far per state and retrier (reset when the state succeeds). */
  private readonly attempts = new Map<string, number[]>();
  private wakers = new Set<() => void>();
  /** How the most recent `startExecution` went (the runner reports it). */
  lastStart?: StartOutcome;

  constructor(private readonly options: LocalWorkflowOptions) {
    this.crashes = new StepCrashInjector(options.crashRules ?? []);
  }

  /**
   * Starts one execution per name, as Step Functions does: calls for the same name are taken one
   * at a time in this process, and the registry's exclusive create settles a race with another
   * process (two deliveries of one SQS message must not start two executions).
   */
  async startExecution(name: string, input: unknown): Promise<StartedExecution> {
    const previous = this.starting.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.startOnce(name, input));
    this.starting.set(name, next);
    try {
      return await next;
    } finally {
      if (this.starting.get(name) === next) this.starting.delete(name);
    }
  }

  private async startOnce(name: string, input: unknown): Promise<StartedExecution> {
    const { registry } = this.options;
    const hash = inputHash(input);
    const existing = await registry.get(name);
    if (existing && existing.inputHash !== hash) {
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${existing.executionArn}' (started ${existing.startDate} with a different input)`,
        $metadata: {},
      });
    }
    if (existing) {
      const here = this.running.has(name);
      const interrupted = existing.status === 'RUNNING' && !here && (existing.pid === process.pid || !processAlive(existing.pid));
      if (!interrupted) {
        this.lastStart = { kind: 'existing', name, record: existing, runningElsewhere: existing.status === 'RUNNING' && !here };
        return { executionArn: existing.executionArn, alreadyStarted: true };
      }
      // The process that ran it is gone: the execution resumes here (every step is idempotent).
      this.lastStart = { kind: 'resumed', name, previous: existing };
      this.launch(name, input, { ...existing, attempts: existing.attempts + 1 });
      return { executionArn: existing.executionArn, alreadyStarted: true };
    }
    const record: ExecutionRecord = {
      name,
      executionArn: `${EXECUTION_ARN_PREFIX}:${(await this.loadTemplate()).logicalId}:${name}`,
      inputHash: hash,
      input,
      status: 'RUNNING',
      startDate: new Date().toISOString(),
      pid: process.pid,
      attempts: 1,
    };
    // Another process took the name between our read and this write: it is theirs, start nothing.
    if (!(await registry.create(record))) return this.startOnce(name, input);
    this.lastStart = { kind: 'started', name };
    this.launch(name, input, record);
    return { executionArn: record.executionArn, alreadyStarted: false };
  }

  /**
   * What the registry remembers of an execution. An interrupted one (its process is gone) is still
   * RUNNING: starting it again with its input resumes it, as parse does for a redelivery.
   */
  async describeExecution(name: string): Promise<ExecutionDescription | undefined> {
    const record = await this.options.registry.get(name);
    if (!record) return undefined;
    return { name: record.name, executionArn: record.executionArn, status: record.status, input: record.input };
  }

  /**
   * Resolves when the named execution has ended (SUCCEEDED or FAILED record). An execution
   * running in another process is followed through the registry.
   */
  async waitFor(name: string, pollMs = 500): Promise<ExecutionRecord> {
    const here = this.running.get(name);
    if (here) return here;
    for (;;) {
      const record = await this.options.registry.get(name);
      if (!record) throw new Error(`No execution named ${name}`);
      if (record.status !== 'RUNNING' || !processAlive(record.pid)) return record;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private launch(name: string, input: unknown, record: ExecutionRecord): void {
    const done = this.execute(name, input, record).finally(() => this.running.delete(name));
    this.running.set(name, done);
    // The caller awaits `waitFor`; keep an unobserved failure from crashing the process.
    done.catch(() => undefined);
  }

  /** Ends the current retry waits early: something the waiting steps poll for has changed. */
  wake(): void {
    const wakers = this.wakers;
    this.wakers = new Set();
    for (const wake of wakers) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /**
   * The interpreter waits a constant `retryIntervalOverrides` per retrier; the growth of the
   * ASL's schedule (BackoffRate, MaxDelaySeconds) is added here, before the error reaches it.
   */
  private async backoff(stateName: string, errorName: string): Promise<void> {
    const retriers = this.retriers.get(stateName);
    const index = matchingRetrier(retriers, errorName);
    if (index < 0) return;
    const retrier = retriers![index]!;
    const counts = this.attempts.get(stateName) ?? retriers!.map(() => 0);
    this.attempts.set(stateName, counts);
    const attempt = counts[index]!;
    counts[index] = attempt + 1;
    if (attempt >= (retrier.MaxAttempts ?? 3)) return;
    const waits = this.options.retryWaits ?? DEFAULT_RETRY_WAITS;
    const extra = retryWaitMs(retrier, attempt, waits) - retryWaitMs(retrier, 0, waits);
    if (extra > 0) await this.sleep(extra);
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(event);
  }

  private async loadTemplate(): Promise<StateMachineTemplate> {
    this.template ??= await readStateMachineTemplate(this.options.templateFile);
    return this.template;
  }

  private handlerOf(fn: FunctionHandler): Promise<Handler> {
    let loaded = this.handlers.get(fn.file);
    if (!loaded) {
      loaded = loadHandler(fn);
      this.handlers.set(fn.file, loaded);
    }
    return loaded;
  }

  /** The definition with placeholders substituted, Task handlers and local retry waits. */
  async prepare(): Promise<{
    definition: StateMachineDefinition;
    taskHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>>;
    retryIntervals: Record<string, number[]>;
  }> {
    const template = await this.loadTemplate();
    const text = await readFile(template.definitionFile, 'utf8');
    const definition = JSON.parse(substituteDefinition(text, template.substitutions)) as StateMachineDefinition & {
      States: Record<string, AnyState>;
    };
    const byArn = new Map<string, FunctionHandler>();
    for (const substitution of template.substitutions.values()) {
      if (substitution.kind === 'function') byArn.set(substitution.arn, substitution.fn);
    }
    const waits = this.options.retryWaits ?? DEFAULT_RETRY_WAITS;
    const taskHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    const retryIntervals: Record<string, number[]> = {};
    for (const [stateName, state] of allStates(definition)) {
      if (state.Retry) {
        retryIntervals[stateName] = state.Retry.map((r) => retryWaitMs(r, 0, waits));
        this.retriers.set(stateName, state.Retry);
      }
      if (state.Type !== 'Task') continue;
      const task = state as unknown as TaskState;
      const fn = byArn.get(task.Resource);
      if (!fn) {
        // A service integration (e.g. SNS publish) has no local handler: it succeeds without effect.
        taskHandlers[stateName] = async () => {
          this.emit({ kind: 'note', message: `${stateName}: ${task.Resource} is not run locally (skipped)`, at: Date.now() });
          return {};
        };
        continue;
      }
      if (task.TimeoutSeconds === undefined && task.TimeoutSecondsPath === undefined) {
        // The interpreter's default (60 s) is not Step Functions': there the function's own timeout applies.
        task.TimeoutSeconds = Math.max(fn.timeoutSeconds, this.options.defaultTaskTimeoutSeconds ?? 900);
      }
      taskHandlers[stateName] = (input) => this.invoke(stateName, fn, input);
    }
    return { definition, taskHandlers, retryIntervals };
  }

  /** One Lambda invocation: JSON in, JSON out, with the step-crash faults applied. */
  private async invoke(stateName: string, fn: FunctionHandler, input: JsonValue): Promise<JsonValue> {
    const step = stepOf(fn.file);
    const before = this.crashes.take(step, stateName, 'before');
    if (before) {
      const failure = new LambdaFunctionError(new StepCrashed(step, 'before'));
      await this.backoff(stateName, failure.name);
      throw failure;
    }
    const handler = await this.handlerOf(fn);
    let result: JsonValue;
    try {
      result = viaJson(await handler(viaJson(input), lambdaContext(fn)));
    } catch (error) {
      const failure = new LambdaFunctionError(error);
      await this.backoff(stateName, failure.name);
      throw failure;
    }
    this.attempts.delete(stateName);
    const crash = this.crashes.take(step, stateName, 'midway') ?? this.crashes.take(step, stateName, 'after');
    if (crash) {
      this.emit({ kind: 'note', message: `fault injected: ${stateName} did its work, then crashed before answering`, at: Date.now() });
      const failure = new LambdaFunctionError(new StepCrashed(step, crash.crash));
      await this.backoff(stateName, failure.name);
      throw failure;
    }
    return result;
  }

  private async execute(name: string, input: unknown, record: ExecutionRecord): Promise<ExecutionRecord> {
    const { registry } = this.options;
    await registry.put({ ...record, status: 'RUNNING', pid: process.pid });
    let ended: ExecutionRecord;
    try {
      const { definition, taskHandlers, retryIntervals } = await this.prepare();
      const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
      this.emit({ kind: 'execution-started', name, at: Date.now() });
      const execution = machine.run(viaJson(input), {
        overrides: { taskResourceLocalHandlers: taskHandlers, retryIntervalOverrides: retryIntervals },
        context: {
          Execution: { Id: record.executionArn, Name: name, Input: viaJson(input), StartTime: record.startDate },
          StateMachine: { Id: record.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''), Name: (await this.loadTemplate()).logicalId },
        },
      });
      let failure: { error: string; cause: string } | undefined;
      const lastError = new Map<string, string>();
      for await (const event of execution.eventLogs) {
        switch (event.type) {
          case 'StateEntered':
            this.emit({ kind: 'state-entered', state: event.state.name, type: event.state.type, at: event.timestamp });
            break;
          case 'StateExited':
            this.emit({ kind: 'state-exited', state: event.state.name, type: event.state.type, at: event.timestamp });
            break;
          case 'StateFailed':
            lastError.set(event.state.name, event.Error);
            this.emit({ kind: 'state-failed', state: event.state.name, error: event.Error, cause: String(event.Cause ?? ''), at: event.timestamp });
            break;
          case 'StateRetried':
            this.emit({ kind: 'state-retried', state: event.state.name, attempt: event.retry.attempt, error: lastError.get(event.state.name) ?? '', at: event.timestamp });
            break;
          case 'StateCaught':
            this.emit({ kind: 'state-caught', state: event.state.name, next: event.catch.catcher.Next, error: lastError.get(event.state.name) ?? '', at: event.timestamp });
            break;
          case 'ExecutionFailed':
            failure = { error: event.Error, cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause) };
            break;
          default:
            break;
        }
      }
      try {
        const output = await execution.result;
        ended = { ...record, status: 'SUCCEEDED', stopDate: new Date().toISOString(), output, pid: process.pid };
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        ended = {
          ...record,
          status: 'FAILED',
          stopDate: new Date().toISOString(),
          pid: process.pid,
          error: failure?.error ?? (cause instanceof Error ? cause.name : (error as Error).name),
          cause: failure?.cause ?? (cause instanceof Error ? cause.message : (error as Error).message),
        };
      }
    } catch (error) {
      // The definition could not even be prepared: the execution fails, as StartExecution would have.
      ended = {
        ...record,
        status: 'FAILED',
        stopDate: new Date().toISOString(),
        pid: process.pid,
        error: (error as Error).name,
        cause: (error as Error).message,
      };
    }
    await registry.put(ended);
    this.emit({ kind: 'execution-ended', name, status: ended.status as 'SUCCEEDED' | 'FAILED', at: Date.now(), ...(ended.error ? { error: ended.error, cause: ended.cause } : {}) });
    return ended;
  }
}
