/**
 * template.yaml with ForecastBackend=builtin: no Amazon Forecast anywhere, the engine's state and
 * job state machine with exactly the permissions they need; with amazon, none of the engine's parts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asArray, loadTemplate, resolveFor, resourcesOfType, ROOT, statementsOf, type Json } from './template-helpers';

const raw = loadTemplate();
const builtin = resolveFor(raw, { ForecastBackend: 'builtin' });
const amazon = resolveFor(raw, { ForecastBackend: 'amazon' });
const ENGINE_PARTS = ['EngineStateAccessPolicy', 'EnginePlanFunction', 'EngineShardFunction', 'EngineFinishFunction', 'EngineJobStateMachine'];
const STEP_FUNCTIONS = [
  'CreateDatasetFunction',
  'CreateDatasetGroupFunction',
  'CreateImportJobsFunction',
  'CreatePredictorsFunction',
  'CreateForecastsFunction',
  'DeleteForecastsFunction',
  'DeletePredictorsFunction',
  'DeleteDatasetsFunction',
];
const ENGINE_JOB_ARN = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-engine-job";

/** Every action granted anywhere in a resolved template (inline statements and policy documents). */
function allActions(template: Json): string[] {
  const actions: string[] = [];
  for (const resource of Object.values(template.Resources as Json) as Json[]) {
    const props = resource.Properties ?? {};
    for (const s of statementsOf({ Properties: props })) actions.push(...(asArray(s.Action) as string[]));
    for (const policy of asArray(props.Policies) as Json[]) for (const s of asArray(policy?.PolicyDocument?.Statement) as Json[]) actions.push(...(asArray(s.Action) as string[]));
    for (const s of asArray(props.PolicyDocument?.Statement) as Json[]) actions.push(...(asArray(s.Action) as string[]));
  }
  return actions;
}

describe('template: ForecastBackend parameter', () => {
  it('offers amazon and builtin, amazon by default, with a description a guided deploy shows', () => {
    const parameter = raw.Parameters.ForecastBackend;
    expect(parameter.AllowedValues).toEqual(['amazon', 'builtin']);
    expect(parameter.Default).toBe('amazon');
    expect(parameter.Description).toMatch(/Amazon Forecast takes no new customers/);
    expect(parameter.Description).toMatch(/builtin = /);
  });

  it('with amazon: the Forecast role and grants as before, none of the engine parts', () => {
    for (const id of ENGINE_PARTS) expect(amazon.Resources[id], id).toBeUndefined();
    expect(amazon.Resources.ForecastServiceRole).toBeDefined();
    expect(amazon.Globals.Function.Environment.Variables.FORECAST_BACKEND).toBe('amazon');
    for (const id of STEP_FUNCTIONS) expect(amazon.Resources[id].Properties.Policies, id).toHaveLength(1);
  });
});

describe('template: ForecastBackend=builtin', () => {
  const resources = builtin.Resources as Json;

  it('has no Forecast service role, no Forecast permission and passes no role', () => {
    expect(resources.ForecastServiceRole).toBeUndefined();
    const actions = allActions(builtin);
    expect(actions.filter((a) => a.startsWith('forecast:'))).toEqual([]);
    expect(actions).not.toContain('iam:PassRole');
    expect(JSON.stringify(builtin)).not.toContain('ForecastServiceRole');
  });

  it('runs the engine with its state under .engine/ and its jobs on the engine-job state machine', () => {
    const env = builtin.Globals.Function.Environment.Variables;
    expect(env.FORECAST_BACKEND).toBe('builtin');
    expect(env.ENGINE_STATE_URI).toEqual({ 'Fn::Sub': 's3://${DataBucket}/.engine' });
    expect(env.FORECAST_ENGINE_EXECUTOR).toBe('workflow');
    expect(env.ENGINE_JOB_STATE_MACHINE_ARN).toEqual({ 'Fn::Sub': ENGINE_JOB_ARN });
    expect(resources.EngineJobStateMachine.Properties.Name).toEqual({ 'Fn::Sub': '${AWS::StackName}-engine-job' });
  });

  it('gives each step function only the engine state policy: S3 on .engine/, start and describe of engine jobs', () => {
    for (const id of STEP_FUNCTIONS) expect(resources[id].Properties.Policies, id).toEqual([{ Ref: 'EngineStateAccessPolicy' }]);
    for (const id of ['ParseFunction', 'NotifyFunction', 'FailureFunction']) expect(JSON.stringify(resources[id].Properties.Policies), id).not.toContain('EngineStateAccessPolicy');
    const statements = resources.EngineStateAccessPolicy.Properties.PolicyDocument.Statement as Json[];
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: { 'Fn::Sub': '${DataBucket.Arn}/.engine/*' } },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': ['DataBucket', 'Arn'] }, Condition: { StringLike: { 's3:prefix': ['.engine/*'] } } },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { 'Fn::Sub': ENGINE_JOB_ARN } },
      {
        Effect: 'Allow',
        Action: 'states:DescribeExecution',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-engine-job:*' },
      },
    ]);
  });

  it('deploys the engine-job ASL with its three functions, each built by the one build script', () => {
    const machine = resources.EngineJobStateMachine.Properties;
    expect(machine.DefinitionUri).toBe('statemachine/engine-job.asl.json');
    const asl = readFileSync(join(ROOT, machine.DefinitionUri), 'utf8');
    const placeholders = [...new Set([...asl.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]!))].sort();
    expect(Object.keys(machine.DefinitionSubstitutions).sort()).toEqual(placeholders);
    for (const [name, value] of Object.entries(machine.DefinitionSubstitutions as Json)) expect(value).toEqual({ 'Fn::GetAtt': [name.replace(/Arn$/, ''), 'Arn'] });
    const invoked = (machine.Policies as Json[]).filter((p) => p.LambdaInvokePolicy).map((p) => p.LambdaInvokePolicy.FunctionName.Ref);
    expect(invoked.sort()).toEqual(['EngineFinishFunction', 'EnginePlanFunction', 'EngineShardFunction']);
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    for (const [id, step] of [['EnginePlanFunction', 'engine-plan'], ['EngineShardFunction', 'engine-shard'], ['EngineFinishFunction', 'engine-finish']] as const) {
      expect(resources[id].Metadata.BuildProperties.EntryPoints).toEqual([`lambdas/${step}/handler.ts`]);
      expect(makefile).toMatch(new RegExp(`^build-${id}:\\n\\t\\$\\(BUILD\\) --function ${step} --artifacts-dir "\\$\\(ARTIFACTS_DIR\\)"`, 'm'));
    }
  });

  it('gives every engine-job Task the timeout of the function it invokes (the local interpreter would time it out after 60 s and retry it beside itself)', () => {
    // Prepare
    const machine = resources.EngineJobStateMachine.Properties;
    const asl = JSON.parse(readFileSync(join(ROOT, machine.DefinitionUri), 'utf8')) as Json;
    const tasks: Json[] = [];
    const collect = (states: Json) => {
      for (const state of Object.values(states) as Json[]) {
        if (state.Type === 'Task') tasks.push(state);
        if (state.ItemProcessor) collect(state.ItemProcessor.States);
      }
    };

    // Act
    collect(asl.States);

    // Assess
    expect(tasks.length).toBe(5);
    for (const task of tasks) {
      const functionId = /^\$\{([A-Za-z]+)Arn\}$/.exec(task.Resource)![1]!;
      expect({ task: task.Resource, timeout: task.TimeoutSeconds }).toEqual({ task: task.Resource, timeout: resources[functionId].Properties.Timeout });
    }
  });

  it('grants the engine functions S3 only in the data bucket, writes outside .engine/ only to Finish (exports)', () => {
    const writes = (id: string) =>
      statementsOf(resources[id]).filter((s) => (asArray(s.Action) as string[]).some((a) => a === 's3:PutObject' || a === 's3:DeleteObject')).map((s) => s.Resource);
    expect(writes('EngineShardFunction')).toEqual([{ 'Fn::Sub': '${DataBucket.Arn}/.engine/*' }]);
    expect(writes('EnginePlanFunction')).toEqual([{ 'Fn::Sub': '${DataBucket.Arn}/.engine/*' }]);
    expect(writes('EngineFinishFunction')).toEqual([{ 'Fn::Sub': '${DataBucket.Arn}/*' }, { 'Fn::Sub': '${DataBucket.Arn}/.engine/*' }]);
    for (const id of ['EnginePlanFunction', 'EngineShardFunction', 'EngineFinishFunction']) {
      for (const s of statementsOf(resources[id])) {
        expect((asArray(s.Action) as string[]).every((a) => a.startsWith('s3:')), id).toBe(true);
        expect(JSON.stringify(s.Resource), id).toMatch(/DataBucket/);
      }
    }
  });

  it('lets the engine-job state machine run its own distributed Map children and nothing else', () => {
    const statements = statementsOf(resources.EngineJobStateMachine) as Json[];
    const states = statements.filter((s) => (asArray(s.Action) as string[]).some((a) => a.startsWith('states:')));
    expect(states).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { 'Fn::Sub': ENGINE_JOB_ARN } },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-engine-job/*' },
      },
    ]);
    expect(resourcesOfType(builtin, 'AWS::Serverless::StateMachine').map(([id]) => id).sort()).toEqual(['EngineJobStateMachine', 'ForecastStateMachine']);
  });
});
