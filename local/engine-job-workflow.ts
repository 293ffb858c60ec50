/**
 * The local engine-job workflow (FORECAST_ENGINE_EXECUTOR=workflow): runs
 * statemachine/engine-job.asl.json with aws-local-stepfunctions, as Step Functions runs it when
 * deployed. Plan and Finish run in this process; every shard runs in a child process of its own
 * (local/engine-shard-process.ts), as separate Lambdas would, and is reported as it finishes.
 * FORECAST_FAULTS' `engineStep` rules (engine/faults.ts) make a state fail here: a shard whose
 * process reports a crash or is killed, a Plan or Finish that throws.
 */
import './polyfill';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { SHARD_CRASH_ENV } from '../engine/faults';
import { ENGINE_JOB_DEFINITION, readStateMachineTemplate, substituteDefinition } from './template';
import { finishStep, planStep, shardStep, type EngineJobDependencies } from '../shared/steps/engine-job';
import type { ExecutionStatus, StartedExecution, WorkflowRunner } from '../shared/ports';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const TEMPLATE_FILE = fileURLToPath(new URL('../template.yaml', import.meta.url));
const EXECUTION_ARN_PREFIX = 'arn:aws:states:us-east-1:000000000000:execution:EngineJobStateMachine';

export interface ShardFinished {
  readonly jobArn: string;
  readonly index: number;
  readonly series: number;
  /** Wall time of the shard's process (start-up included). */
  readonly ms: number;
  /** Time the shard spent fitting, and its process's peak RSS (when it ran in a child process). */
  readonly fitMs?: number;
  readonly maxRssKiB?: number;
}

/** How long a Plan or Finish step took here (the bench's plan + merge overhead). */
export interface StepTimed {
  readonly jobArn: string;
  readonly state: 'Plan' | 'Finish';
  readonly ms: number;
}

export interface LocalEngineJobWorkflowOptions {
  readonly deps: EngineJobDependencies;
  /** Folder of the FolderObjectStore the shard processes open. */
  readonly storeRoot: string;
  readonly onShard?: (event: ShardFinished) => void;
  readonly onStep?: (event: StepTimed) => void;
  /** Called when an execution ends (its job's document is final). */
  readonly onExecutionEnded?: () => void;
  /** Test hook: replaces the shard child process (e.g. one that crashes). */
  readonly runShard?: (input: ShardInput, storeRoot: string) => Promise<unknown>;
  /**
   * Build-test hook: every task invokes this stand-in for the Lambda its state's Resource names
   * (tests/build runs the built functions in child processes); `deps` and `runShard` are then unused.
   */
  readonly invokeFunction?: (functionName: EngineFunction, event: Json) => Promise<unknown>;
}

/** The engine-job state machine's Lambdas, as `npm run build` names their bundles. */
export type EngineFunction = 'engine-plan' | 'engine-shard' | 'engine-finish';

type ShardInput = { jobArn: string; shard: { index: number } };
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Runs a shard in a child process; rejects with the child's stderr when it fails (`ShardFailed`).
 * `onSpawn` sees the child (tests kill it, as a Lambda's sandbox can die); `crash` makes the child
 * fail after its work (an injected fault).
 */
export function runShardProcess(input: ShardInput, storeRoot: string, onSpawn?: (child: ChildProcess) => void, crash = false): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${repoRoot}bin/run-ts.mjs`, `${repoRoot}local/engine-shard-process.ts`, storeRoot], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(crash && { env: { ...process.env, [SHARD_CRASH_ENV]: '1' } }),
    });
    onSpawn?.(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        resolve(JSON.parse(last));
        return;
      }
      const error = new Error(`Shard ${input.shard.index} process ${signal ? `killed by ${signal}` : `exited ${code}`}: ${err.trim().split('\n').slice(-3).join(' ')}`);
      error.name = 'ShardFailed';
      reject(error);
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** statemachine/engine-job.asl.json with its function ARNs substituted as template.yaml says. */
async function engineJobDefinition(): Promise<StateMachineDefinition> {
  const machine = await readStateMachineTemplate(TEMPLATE_FILE, ENGINE_JOB_DEFINITION);
  return JSON.parse(substituteDefinition(await readFile(machine.definitionFile, 'utf8'), machine.substitutions)) as StateMachineDefinition;
}

export class LocalEngineJobWorkflow implements WorkflowRunner {
  private readonly statuses = new Map<string, ExecutionStatus>();
  private readonly running = new Set<Promise<unknown>>();
  private definition: StateMachineDefinition | undefined;

  constructor(private readonly options: LocalEngineJobWorkflowOptions) {}

  async startExecution(name: string, input: unknown): Promise<StartedExecution> {
    const executionArn = `${EXECUTION_ARN_PREFIX}:${name}`;
    this.definition ??= await engineJobDefinition();
    const machine = new StateMachine(this.definition, { validationOptions: { checkArn: true, checkPaths: true } });
    const { deps, storeRoot, onShard } = this.options;
    const shard = this.options.runShard ?? runShardProcess;
    const invoke = this.options.invokeFunction;
    const onLambda = (functionName: EngineFunction) => async (event: Json) => (await invoke!(functionName, event)) as Json;
    const execution = machine.run(input as Json, {
      overrides: {
        taskResourceLocalHandlers: invoke
          ? {
              Plan: onLambda('engine-plan'),
              'Fit-Shard': onLambda('engine-shard'),
              'Record-Shard-Failure': onLambda('engine-shard'),
              Finish: onLambda('engine-finish'),
              'Fail-Job': onLambda('engine-finish'),
            }
          : {
              Plan: async (event) => {
                this.injectStepFault('Plan', event);
                return (await this.timed('Plan', event, () => planStep(event, deps))) as unknown as Json;
              },
              'Fit-Shard': async (event) => {
                const started = Date.now();
                const input = event as unknown as ShardInput;
                const fault = deps.faults.engineStepFault('Fit-Shard', input.jobArn);
                const running = fault
                  ? runShardProcess(input, storeRoot, (child) => (fault === 'killed' ? child.kill('SIGKILL') : undefined), fault === 'crash')
                  : shard(input, storeRoot);
                const result = (await running) as { index: number; series: number; fitMs?: number; maxRssKiB?: number };
                onShard?.({ jobArn: (event as { jobArn: string }).jobArn, index: result.index, series: result.series, ms: Date.now() - started, fitMs: result.fitMs, maxRssKiB: result.maxRssKiB });
                return result as unknown as Json;
              },
              'Record-Shard-Failure': async (event) => (await shardStep(event, deps)) as unknown as Json,
              Finish: async (event) => {
                this.injectStepFault('Finish', event);
                return (await this.timed('Finish', event, () => finishStep(event, deps))) as unknown as Json;
              },
              'Fail-Job': async (event) => (await finishStep(event, deps)) as unknown as Json,
            },
        retryIntervalOverrides: { Plan: 0, 'Fit-Shard': 0, 'Record-Shard-Failure': 0, Finish: 0, 'Fail-Job': 0 },
      },
    });
    this.statuses.set(executionArn, 'RUNNING');
    const done = execution.result.then(
      () => this.statuses.set(executionArn, 'SUCCEEDED'),
      () => this.statuses.set(executionArn, 'FAILED'),
    );
    this.running.add(done);
    void done.finally(() => {
      this.running.delete(done);
      this.options.onExecutionEnded?.();
    });
    return { executionArn, alreadyStarted: false };
  }

  /** Throws the failure an `engineStep` rule of FORECAST_FAULTS injects into this Plan or Finish, if any. */
  private injectStepFault(state: 'Plan' | 'Finish', event: Json): void {
    const { jobArn } = event as { jobArn: string };
    if (this.options.deps.faults.engineStepFault(state, jobArn)) throw new Error(`Injected fault (FORECAST_FAULTS): engine step ${state} of ${jobArn} failed`);
  }

  private async timed<T>(state: StepTimed['state'], event: unknown, step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await step();
    } finally {
      this.options.onStep?.({ jobArn: (event as { jobArn: string }).jobArn, state, ms: Math.round(performance.now() - started) });
    }
  }

  /** An execution this process does not know ran in a process that is gone: it ended unfinished. */
  async executionStatus(executionArn: string): Promise<ExecutionStatus> {
    return this.statuses.get(executionArn) ?? 'ABORTED';
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
