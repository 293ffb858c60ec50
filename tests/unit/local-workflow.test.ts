import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { readFile } from 'node:fs/promises';
import { DEFAULT_RETRY_WAITS, LocalWorkflowStarter, retryWaitMs } from '../../local/workflow';
import { ExecutionRegistry } from '../../local/executions';
import type { RunEvent } from '../../local/events';
import { parseStepCrashRules } from '../../local/step-faults';

// A stand-in SAM app: two functions, a state machine with Retry and Catch, as the real one is shaped.
const TEMPLATE = `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs22.x
    Handler: handler.handler
    Timeout: 30
Resources:
  CountFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: lambdas/count/
  FailureFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: lambdas/failure
      Handler: handler.handler
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/machine.asl.json
      DefinitionSubstitutions:
        CountFunctionArn: !GetAtt CountFunction.Arn
        FailureFunctionArn: !Sub "\${FailureFunction.Arn}"
        TopicArn: !Ref Topic
`;

const ASL = {
  StartAt: 'Count',
  States: {
    Count: {
      Type: 'Task',
      Resource: '${CountFunctionArn}',
      ResultPath: '$.results.count',
      Retry: [{ ErrorEquals: ['ResourcePending'], IntervalSeconds: 60, MaxAttempts: 5, BackoffRate: 1 },
              { ErrorEquals: ['Lambda.Unknown'], IntervalSeconds: 2, MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failure' }],
      Next: 'Done',
    },
    Failure: { Type: 'Task', Resource: '${FailureFunctionArn}', ResultPath: '$.results.failure', Next: 'Failed' },
    Failed: { Type: 'Fail', Error: 'PipelineFailed', Cause: 'see results.failure' },
    Done: { Type: 'Succeed' },
  },
};

// Counts calls in a file so that the test sees them across module instances; pending N times first.
const COUNT_HANDLER = `
import { appendFileSync, readFileSync, existsSync } from 'node:fs';
export async function handler(event) {
  const log = event.log;
  appendFileSync(log, 'x');
  const calls = readFileSync(log, 'utf8').length;
  if (event.fail) { const e = new Error('the job failed'); e.name = 'ResourceFailed'; throw e; }
  if (calls <= event.pendingTimes) { const e = new Error('still training'); e.name = 'ResourcePending'; throw e; }
  return { calls, when: new Date(0) };
}
`;
const FAILURE_HANDLER = `
import { writeFileSync } from 'node:fs';
export const handler = async (event) => { writeFileSync(event.log + '.failure', JSON.stringify(event.error)); return { recorded: event.error.Error }; };
`;

describe('Local workflow: LocalWorkflowStarter', () => {
  let dir: string;
  let events: RunEvent[];

  const starter = (rules = '') =>
    new LocalWorkflowStarter({
      templateFile: join(dir, 'template.yaml'),
      registry: new ExecutionRegistry(join(dir, 'executions')),
      onEvent: (e) => events.push(e),
      crashRules: parseStepCrashRules(rules),
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-workflow-'));
    events = [];
    await mkdir(join(dir, 'lambdas/count'), { recursive: true });
    await mkdir(join(dir, 'lambdas/failure'), { recursive: true });
    await mkdir(join(dir, 'statemachine'), { recursive: true });
    await writeFile(join(dir, 'template.yaml'), TEMPLATE);
    await writeFile(join(dir, 'statemachine/machine.asl.json'), JSON.stringify(ASL));
    await writeFile(join(dir, 'lambdas/count/handler.mjs'), COUNT_HANDLER);
    await writeFile(join(dir, 'lambdas/failure/handler.mjs'), FAILURE_HANDLER);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs each Task with the handler the template names and retries ResourcePending for real, with short waits', async () => {
    // Prepare
    const workflow = starter();
    const input = { log: join(dir, 'calls.log'), pendingTimes: 2 };

    // Act
    const started = Date.now();
    const start = await workflow.startExecution('run_1', input);
    const record = await workflow.waitFor('run_1');

    // Assess
    expect(start.alreadyStarted).toBe(false);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toMatchObject({ results: { count: { calls: 3, when: '1970-01-01T00:00:00.000Z' } } });
    expect(events.filter((e) => e.kind === 'state-retried').map((e) => (e as { error: string }).error)).toEqual(['ResourcePending', 'ResourcePending']);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('does not run an execution twice when the same name comes with the same input', async () => {
    // Prepare
    const input = { log: join(dir, 'calls.log'), pendingTimes: 0 };
    const first = starter();
    await first.startExecution('run_1', input);
    await first.waitFor('run_1');

    // Act: a second process (new starter, same registry) starts the same execution
    const second = starter();
    const again = await second.startExecution('run_1', { pendingTimes: 0, log: input.log });
    const record = await second.waitFor('run_1');

    // Assess
    expect(again.alreadyStarted).toBe(true);
    expect(second.lastStart).toMatchObject({ kind: 'existing', record: { status: 'SUCCEEDED' } });
    expect(record.output).toMatchObject({ results: { count: { calls: 1 } } });
  });

  it('throws ExecutionAlreadyExists when the name is reused with another input', async () => {
    // Prepare
    const workflow = starter();
    await workflow.startExecution('run_1', { log: join(dir, 'calls.log'), pendingTimes: 0 });
    await workflow.waitFor('run_1');

    // Act
    const reuse = workflow.startExecution('run_1', { log: join(dir, 'calls.log'), pendingTimes: 1 });

    // Assess
    await expect(reuse).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('resumes an execution whose process is gone', async () => {
    // Prepare: a RUNNING record left by a process that no longer exists
    const registry = new ExecutionRegistry(join(dir, 'executions'));
    const input = { log: join(dir, 'calls.log'), pendingTimes: 0 };
    const workflow = starter();
    await workflow.startExecution('run_1', input);
    const finished = await workflow.waitFor('run_1');
    await registry.put({ ...finished, status: 'RUNNING', output: undefined, stopDate: undefined, pid: 2 ** 22 + 12345 });

    // Act
    const resumed = starter();
    await resumed.startExecution('run_1', input);
    const record = await resumed.waitFor('run_1');

    // Assess
    expect(resumed.lastStart?.kind).toBe('resumed');
    expect(record).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
  });

  it('ends FAILED through Catch and the Failure step when a Task fails', async () => {
    // Prepare
    const workflow = starter();

    // Act
    await workflow.startExecution('run_1', { log: join(dir, 'calls.log'), pendingTimes: 0, fail: true });
    const record = await workflow.waitFor('run_1');

    // Assess
    expect(record).toMatchObject({ status: 'FAILED', error: 'PipelineFailed' });
    expect(events.some((e) => e.kind === 'state-caught' && e.state === 'Count' && e.next === 'Failure')).toBe(true);
    expect(events.some((e) => e.kind === 'state-exited' && e.state === 'Failure')).toBe(true);
    const caught = JSON.parse(await readFile(join(dir, 'calls.log.failure'), 'utf8'));
    expect(caught.Error).toBe('ResourceFailed');
    expect(JSON.parse(caught.Cause)).toMatchObject({ errorType: 'ResourceFailed', errorMessage: 'the job failed' });
  });

  it('crashes a step midway once: the work is done, the Retry runs it again, the state advances once', async () => {
    // Prepare
    const workflow = starter('[{"step":"count","crash":"midway","times":1},{"operation":"CreatePredictor","error":"LimitExceededException"}]');

    // Act
    await workflow.startExecution('run_1', { log: join(dir, 'calls.log'), pendingTimes: 0 });
    const record = await workflow.waitFor('run_1');

    // Assess: the handler ran twice (first result thrown away), the workflow succeeded
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toMatchObject({ results: { count: { calls: 2 } } });
    expect(events.filter((e) => e.kind === 'state-retried').map((e) => (e as { error: string }).error)).toEqual(['Lambda.Unknown']);
  });
});

describe('Local workflow: retryWaitMs', () => {
  it('follows the ASL schedule (interval, backoff, cap) divided by the time scale, clamped', () => {
    // Prepare
    const retrier = { ErrorEquals: ['ResourcePending'], IntervalSeconds: 60, BackoffRate: 1.3, MaxDelaySeconds: 600, MaxAttempts: 160 };

    // Act
    const waits = [0, 1, 2, 20].map((n) => retryWaitMs(retrier, n, DEFAULT_RETRY_WAITS));

    // Assess
    expect(waits).toEqual([1000, 1300, 1690, DEFAULT_RETRY_WAITS.maxMs]);
    expect(retryWaitMs({ ErrorEquals: ['X'], IntervalSeconds: 1 }, 0, DEFAULT_RETRY_WAITS)).toBe(DEFAULT_RETRY_WAITS.minMs);
  });
});
