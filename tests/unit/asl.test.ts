import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateAsl } from '../../scripts/validate-asl.mjs';
import { ASL_ERROR_NAMES } from '../../shared/errors';
import { loadTemplate, resourcesOfType, ROOT, type Json } from './template-helpers';

const ASL_FILE = join(ROOT, 'statemachine', 'forecast.asl.json');
const text = readFileSync(ASL_FILE, 'utf8');
const asl = JSON.parse(text) as Json;
const states = asl.States as Record<string, Json>;
const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
const template = loadTemplate();

type Retrier = { ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxAttempts?: number; MaxDelaySeconds?: number };
const retrierFor = (state: Json, error: string): Retrier | undefined =>
  (state.Retry as Retrier[]).find((r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL'));

/** Total wait of a retrier when every attempt is used (seconds), as Step Functions schedules it. */
function totalWaitSeconds(r: Retrier): number {
  let wait = 0;
  for (let attempt = 0; attempt < (r.MaxAttempts ?? 3); attempt++) {
    wait += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** attempt, r.MaxDelaySeconds ?? Infinity);
  }
  return wait;
}

describe('ASL: validation', () => {
  it('has no diagnostics from amazon-states-language-service', async () => {
    expect(await validateAsl(text)).toEqual([]);
  });

  it('is caught by the validator when a field is misspelled (the check can fail)', async () => {
    const broken = text.replace('"IntervalSeconds"', '"IntervalSecond"');
    expect((await validateAsl(broken)).length).toBeGreaterThan(0);
  });
});

describe('ASL: wiring to the template', () => {
  const machine = resourcesOfType(template, 'AWS::Serverless::StateMachine').find(([, m]) => m.Properties.DefinitionUri === 'statemachine/forecast.asl.json')![1];
  const substitutions = machine.Properties.DefinitionSubstitutions as Json;
  const functions = Object.fromEntries(resourcesOfType(template, 'AWS::Serverless::Function'));

  it('uses a direct function ARN placeholder in every Task, each substituted by a template function', () => {
    const placeholders = [...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]!);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(substitutions)));
    for (const [name, state] of tasks) {
      const placeholder = /^\$\{([A-Za-z0-9]+)\}$/.exec(state.Resource)?.[1];
      expect(placeholder, name).toBeDefined();
      const logicalId = substitutions[placeholder!]['Fn::GetAtt'][0];
      expect(functions[logicalId], `${name} → ${logicalId}`).toBeDefined();
    }
  });

  it('has a handler file for every function of the template', () => {
    for (const [id, fn] of Object.entries(functions)) {
      const entry = (fn as Json).Metadata.BuildProperties.EntryPoints[0] as string;
      expect(existsSync(join(ROOT, entry)), `${id}: ${entry}`).toBe(true);
      expect(readFileSync(join(ROOT, entry), 'utf8'), id).toMatch(/export const handler\b/);
    }
  });
});

describe('ASL: flow', () => {
  it('runs the seed flow: datasets → group → imports → predictors → forecasts → notify → cleanup choice', () => {
    const order: string[] = [];
    let name: string | undefined = asl.StartAt;
    while (name && states[name]!.Type !== 'Choice') {
      order.push(name);
      name = states[name]!.Next;
    }
    expect(order).toEqual(['Init-Results', 'Create-Dataset', 'Create-Dataset-Group', 'Create-Import-Jobs', 'Create-Predictors', 'Create-Forecasts', 'Notify']);
    expect(states.Notify!.Next).toBe('Cleanup-Choice');
    expect(states['Cleanup-Choice']!.Choices[0]).toEqual({ Variable: '$.run.performDelete', BooleanEquals: true, Next: 'Delete-Forecasts' });
    expect(states['Delete-Forecasts']!.Next).toBe('Delete-Predictors');
    expect(states['Delete-Predictors']!.Next).toBe('Delete-Datasets');
    expect(states['Delete-Datasets']!.Next).toBe('Final-Choice');
  });

  it('writes each Task result to its own slice under $.results', () => {
    const paths = tasks.map(([, s]) => s.ResultPath as string);
    expect(paths.every((p) => /^\$\.results\.[a-zA-Z]+$/.test(p))).toBe(true);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('sends every caught create/notify error through Failure (recording the failed state) to cleanup, and ends FAILED', () => {
    for (const [name, state] of tasks.filter(([n]) => /^Create-|^Notify$/.test(n))) {
      expect(state.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `Caught-${name}` }]);
      expect(states[`Caught-${name}`]).toMatchObject({ Type: 'Pass', Result: name, ResultPath: '$.error.State', Next: 'Failure' });
    }
    expect(states.Failure!.Next).toBe('Cleanup-Choice');
    expect(states['Cleanup-Choice']!.Default).toBe('Final-Choice');
    const final = states['Final-Choice']!;
    expect(final.Choices[0]).toEqual({ Variable: '$.error', IsPresent: true, Next: 'Run-Failed' });
    expect(states[final.Choices[0].Next]!.Type).toBe('Fail');
    expect(states[final.Choices[1].Next]!.Type).toBe('Fail');
    expect(JSON.stringify(final.Choices[2])).toContain('PARTIAL');
    expect(states[final.Choices[2].Next]!.Type).toBe('Fail');
    expect(states[final.Default]!.Type).toBe('Succeed');
  });

  it('catches cleanup errors so that the run still ends (FAILED), keeping the original error', () => {
    for (const name of ['Delete-Forecasts', 'Delete-Predictors', 'Delete-Datasets']) {
      expect(states[name]!.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupError', Next: `Caught-${name}` }]);
      expect(states[`Caught-${name}`]).toMatchObject({ Type: 'Pass', Result: name, ResultPath: '$.cleanupError.State', Next: 'Cleanup-Failure' });
    }
  });

  it('records a cleanup error through the Failure function (Cleanup-Failure) before Final-Choice, even when recording fails', () => {
    const record = states['Cleanup-Failure']!;
    expect(record).toMatchObject({ Type: 'Task', Resource: states.Failure!.Resource, ResultPath: '$.results.cleanupFailure', Next: 'Final-Choice' });
    expect(record.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupFailureStepError', Next: 'Final-Choice' }]);
    // Only the cleanup path reaches it: no other state leads there.
    const into = Object.entries(states).filter(([, s]) => s.Next === 'Cleanup-Failure' || (s.Catch ?? []).some((c: Json) => c.Next === 'Cleanup-Failure'));
    expect(into.map(([n]) => n).sort()).toEqual(['Caught-Delete-Datasets', 'Caught-Delete-Forecasts', 'Caught-Delete-Predictors']);
    expect(states['Final-Choice']!.Choices[1]).toEqual({ Variable: '$.cleanupError', IsPresent: true, Next: 'Cleanup-Failed' });
  });
});

describe('ASL: retries', () => {
  const creates = tasks.filter(([n]) => n.startsWith('Create-'));
  const longJobs = ['Create-Import-Jobs', 'Create-Predictors', 'Create-Forecasts'];

  it('retries ResourcePending with waits suited to jobs of minutes to hours', () => {
    for (const [name, state] of creates) {
      const pending = retrierFor(state, 'ResourcePending')!;
      expect(pending.ErrorEquals, name).toEqual(['ResourcePending']);
      expect(pending.IntervalSeconds, name).toBeGreaterThanOrEqual(10);
      expect(pending.BackoffRate, name).toBeGreaterThan(1);
      expect(pending.MaxDelaySeconds, name).toBeDefined();
      const hours = totalWaitSeconds(pending) / 3600;
      if (longJobs.includes(name)) {
        expect(pending.IntervalSeconds, name).toBeGreaterThanOrEqual(60);
        expect(hours, name).toBeGreaterThanOrEqual(24);
      } else {
        expect(hours, name).toBeGreaterThanOrEqual(0.5);
      }
    }
  });

  it('retries quota and throttling errors (SDK exception names) with backoff on every Forecast step', () => {
    for (const [name, state] of tasks.filter(([n]) => /^(Create|Delete)-/.test(n))) {
      for (const error of ['LimitExceededException', 'ThrottlingException']) {
        const r = retrierFor(state, error)!;
        expect(r.ErrorEquals, `${name} ${error}`).toContain(error);
        expect(r.BackoffRate, name).toBeGreaterThanOrEqual(1.5);
        expect(totalWaitSeconds(r) / 3600, name).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('retries Lambda service errors on every Task', () => {
    for (const [name, state] of tasks) {
      for (const error of ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'Lambda.AWSLambdaException']) {
        expect(retrierFor(state, error)!.ErrorEquals, `${name} ${error}`).toContain(error);
      }
    }
  });

  it('never retries InvalidInput, ResourceFailed or a refused request; other crashes a couple of times', () => {
    for (const [name, state] of tasks) {
      for (const error of ['InvalidInput', 'ResourceFailed', 'InvalidInputException']) expect(retrierFor(state, error)!.MaxAttempts, `${name} ${error}`).toBe(0);
      const last = (state.Retry as Retrier[]).at(-1)!;
      expect(last.ErrorEquals, name).toEqual(['States.ALL']);
      expect(last.MaxAttempts, name).toBeGreaterThanOrEqual(1);
    }
  });

  it('retries pending deletes and in-use parents on the delete steps', () => {
    for (const name of ['Delete-Forecasts', 'Delete-Predictors', 'Delete-Datasets']) {
      const r = retrierFor(states[name]!, 'ResourcePending')!;
      expect(r.ErrorEquals).toEqual(['ResourcePending', 'ResourceInUseException']);
      expect(totalWaitSeconds(r) / 3600, name).toBeGreaterThanOrEqual(2);
    }
  });

  it('refers to every error name of the ASL contract in shared/errors', () => {
    for (const error of ASL_ERROR_NAMES) expect(text, error).toContain(`"${error}"`);
  });
});
