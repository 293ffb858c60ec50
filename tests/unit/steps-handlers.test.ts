import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CreateDatasetCommand, DescribeDatasetCommand } from '@aws-sdk/client-forecast';
import { DescribeExecutionCommand, ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { setDependencies, type Dependencies } from '../../shared/runtime';
import { handler as createDatasetHandler } from '../../lambdas/create-dataset/handler';
import { handler as failureHandler } from '../../lambdas/failure/handler';
import { handleFailure } from '../../shared/steps/failure';
import { notifyRun } from '../../shared/steps/notify';
import { SnsAnnouncer } from '../../shared/adapters/sns-announcer';
import { StepFunctionsStarter, executionArnOf } from '../../shared/adapters/sfn-workflow';
import { createAmazonForecast } from '../../shared/adapters/amazon-forecast';
import { arn, mockedForecast, pipelineState, ROLE_ARN } from './steps-fixture';

const { mock, client } = mockedForecast();

function dependencies(): Dependencies {
  const unused = () => {
    throw new Error('not used by this step');
  };
  return {
    forecast: client,
    store: new Proxy({}, { get: unused }) as Dependencies['store'],
    warehouse: unused,
    workflow: { startExecution: unused, describeExecution: unused },
    rejections: { reject: unused },
    settings: { bucket: 'data-bucket', forecastRoleArn: ROLE_ARN },
  };
}

beforeAll(() => setDependencies(dependencies()));
afterAll(() => setDependencies(undefined));
afterEach(() => mock.reset());

describe('Function: create-dataset handler', () => {
  it('parses the state, calls the step with the wired dependencies and returns its slice', async () => {
    // Prepare
    mock.on(CreateDatasetCommand).callsFake((input) => ({ DatasetArn: arn('dataset', input.DatasetName) }));
    mock.on(DescribeDatasetCommand).resolves({ Status: 'ACTIVE' });
    // Act
    const slice = await createDatasetHandler(JSON.parse(JSON.stringify(pipelineState())));
    // Assess
    expect(slice.map((d) => d.name)).toEqual(['demo_TARGET', 'demo_RELATED']);
  });

  it('throws InvalidInput naming the field when the event is not a pipeline state', async () => {
    // Prepare
    const event = { ...pipelineState(), run: { ...pipelineState().run, forecastHorizon: 'ninety' } };
    // Act
    const error = await createDatasetHandler(event).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: 'InvalidInput' });
    expect((error as Error).message).toContain('run.forecastHorizon');
    expect(mock.commandCalls(CreateDatasetCommand)).toHaveLength(0);
  });
});

describe('Function: failure', () => {
  const caught = {
    Error: 'ResourceFailed',
    Cause: JSON.stringify({ errorType: 'ResourceFailed', errorMessage: 'Import data failed: bad column', trace: [] }),
    State: 'Create-Import-Jobs',
  };

  it('records the failure through the recorder and announces it with the failed state', async () => {
    // Prepare
    const recorded: unknown[] = [];
    const announced: [string, unknown][] = [];
    const slice = { error: 'ResourceFailed', cause: 'Import data failed: bad column', failedState: 'Create-Import-Jobs' };
    // Act
    const result = await handleFailure(pipelineState({ error: caught }), {
      ...dependencies(),
      record: async (state) => {
        recorded.push(state.error);
        return slice;
      },
      announcer: { announce: async (subject, message) => void announced.push([subject, message]) },
    });
    // Assess
    expect(result).toEqual(slice);
    expect(recorded).toEqual([caught]);
    expect(announced[0]![0]).toBe('Forecast run demo_2024_03_01 FAILED');
    expect(announced[0]![1]).toMatchObject({ status: 'FAILED', failedState: 'Create-Import-Jobs', cause: 'Import data failed: bad column' });
  });

  it('handler records through the warehouse (its error propagates so the ASL retries)', async () => {
    // Act / Assess
    await expect(failureHandler(pipelineState({ error: caught }))).rejects.toThrow(/not used by this step/);
  });

  it('notify announces PARTIAL with the failed models and their reasons', async () => {
    // Prepare
    const announced: [string, unknown][] = [];
    const state = pipelineState();
    state.results.predictors = [{ name: 'demo_ETS_2', model: 'ETS', arn: 'a', status: 'CREATE_FAILED', message: 'too short' }];
    // Act
    const result = await notifyRun(state, {
      ...dependencies(),
      publish: async () => ({ status: 'PARTIAL', forecastRows: 10, metricRows: 2, failedModels: ['ETS'] }),
      announcer: { announce: async (subject, message) => void announced.push([subject, message]) },
    });
    // Assess
    expect(result.status).toBe('PARTIAL');
    expect(announced[0]![0]).toBe('Forecast run demo_2024_03_01 PARTIAL');
    expect(announced[0]![1]).toMatchObject({ failures: [{ model: 'ETS', reason: 'too short' }] });
  });

  it('publishes to the SNS topic with a subject SNS accepts', async () => {
    // Prepare
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: '1' });
    // Act
    await new SnsAnnouncer('arn:aws:sns:us-east-1:123456789012:runs', new SNSClient({})).announce(`Run ${'x'.repeat(200)} ✓`, { a: 1 });
    // Assess
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.Subject!.length).toBeLessThanOrEqual(100);
    expect(input.Subject).not.toContain('✓');
    expect(JSON.parse(input.Message!)).toEqual({ a: 1 });
    sns.restore();
  });
});

describe('StepFunctionsStarter', () => {
  const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:Forecast';
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  afterAll(() => sfn.restore());
  const exists = () => new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });

  it('starts an execution with the name and JSON input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArnOf(machine, 'demo_2024_03_01'), startDate: new Date() });
    // Act
    const started = await new StepFunctionsStarter(machine, new SFNClient({})).startExecution('demo_2024_03_01', { a: 1 });
    // Assess
    expect(started).toEqual({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Forecast:demo_2024_03_01', alreadyStarted: false });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({ stateMachineArn: machine, name: 'demo_2024_03_01', input: '{"a":1}' });
  });

  it('answers alreadyStarted for a redelivered message with the same input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(exists());
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"b":[1,2],"a":1}' });
    // Act
    const started = await new StepFunctionsStarter(machine, new SFNClient({})).startExecution('demo', { a: 1, b: [1, 2] });
    // Assess
    expect(started.alreadyStarted).toBe(true);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(executionArnOf(machine, 'demo'));
  });

  it('rethrows ExecutionAlreadyExists when the same name ran with a different input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(exists());
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"a":2}' });
    // Act / Assess
    await expect(new StepFunctionsStarter(machine, new SFNClient({})).startExecution('demo', { a: 1 })).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
  });
});

describe('createAmazonForecast', () => {
  it('creates one client per container with SDK retries', async () => {
    const first = createAmazonForecast();
    expect(createAmazonForecast()).toBe(first);
    expect(await (first as unknown as { config: { maxAttempts: () => Promise<number> } }).config.maxAttempts()).toBe(6);
  });
});
