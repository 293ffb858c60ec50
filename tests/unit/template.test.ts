import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asArray, loadTemplate, policyTemplatesOf, resolveFor, resourcesOfType, ROOT, statementsOf, type Json } from './template-helpers';

// As deployed with ForecastBackend=amazon (the default); template-builtin.test.ts checks builtin.
const template = resolveFor(loadTemplate(), { ForecastBackend: 'amazon' });
const functions = resourcesOfType(template, 'AWS::Serverless::Function');
const fnByName = Object.fromEntries(functions);
const globals = template.Globals.Function as Json;

/** Forecast actions each function needs: exactly what its step calls. */
const FORECAST_ACTIONS: Record<string, string[]> = {
  ParseFunction: [],
  CreateDatasetFunction: ['CreateDataset', 'DescribeDataset', 'ListDatasets'],
  CreateDatasetGroupFunction: ['CreateDatasetGroup', 'DescribeDatasetGroup', 'UpdateDatasetGroup', 'ListDatasetGroups'],
  CreateImportJobsFunction: ['CreateDatasetImportJob', 'DescribeDatasetImportJob', 'ListDatasetImportJobs'],
  CreatePredictorsFunction: ['CreatePredictor', 'CreateAutoPredictor', 'DescribePredictor', 'DescribeAutoPredictor', 'GetAccuracyMetrics', 'ListPredictors'],
  CreateForecastsFunction: ['CreateForecast', 'DescribeForecast', 'CreateForecastExportJob', 'DescribeForecastExportJob', 'ListForecasts', 'ListForecastExportJobs'],
  NotifyFunction: [],
  DeleteForecastsFunction: ['DeleteForecast', 'DeleteForecastExportJob', 'ListForecasts', 'ListForecastExportJobs'],
  DeletePredictorsFunction: ['DeletePredictor', 'ListPredictors'],
  DeleteDatasetsFunction: ['DeleteDatasetImportJob', 'DescribeDataset', 'DeleteDataset', 'DescribeDatasetGroup', 'DeleteDatasetGroup', 'ListDatasets', 'ListDatasetGroups', 'ListDatasetImportJobs'],
  FailureFunction: [],
};
/** The step module whose SDK commands a create function sends (checked against its grants). */
const STEP_MODULES: Record<string, string> = {
  CreateDatasetFunction: 'create-dataset',
  CreateDatasetGroupFunction: 'create-dataset-group',
  CreateImportJobsFunction: 'create-import-jobs',
  CreatePredictorsFunction: 'create-predictors',
  CreateForecastsFunction: 'create-forecasts',
};
/** Actions that AWS does not scope to resources: the only ones allowed on Resource "*". */
const UNSCOPED_ACTIONS = /^(forecast:List[A-Za-z]+|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

function allStatements(): { owner: string; statement: Json }[] {
  const found: { owner: string; statement: Json }[] = [];
  for (const [id, resource] of Object.entries(template.Resources as Json)) {
    const props = (resource as Json).Properties ?? {};
    for (const statement of statementsOf({ Properties: props })) found.push({ owner: id, statement });
    for (const policy of asArray(props.Policies) as Json[]) {
      for (const statement of asArray(policy?.PolicyDocument?.Statement) as Json[]) found.push({ owner: id, statement });
    }
    for (const statement of asArray(props.PolicyDocument?.Statement) as Json[]) found.push({ owner: id, statement });
  }
  return found;
}

describe('template: functions and layer', () => {
  it('declares one function per step, on nodejs24.x arm64, each with the shared layer and a makefile build', () => {
    expect(functions.map(([id]) => id).sort()).toEqual(Object.keys(FORECAST_ACTIONS).sort());
    expect(globals.Runtime).toBe('nodejs24.x');
    expect(globals.Architectures).toEqual(['arm64']);
    expect(globals.Layers).toEqual([{ Ref: 'SharedLayer' }]);
    expect(globals.Handler).toBe('index.handler');
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime ?? globals.Runtime, id).toBe('nodejs24.x');
      expect(fn.Properties.Architectures ?? globals.Architectures, id).toEqual(['arm64']);
      expect(fn.Metadata.BuildMethod, id).toBe('makefile');
      const [entry] = fn.Metadata.BuildProperties.EntryPoints as string[];
      expect(existsSync(join(ROOT, entry!)), `${id}: ${entry}`).toBe(true);
    }
  });

  it('builds the layer and every function through Makefile targets calling the one build script', () => {
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const [layerId, layer] = resourcesOfType(template, 'AWS::Serverless::LayerVersion')[0]!;
    expect(layer.Metadata.BuildMethod).toBe('makefile');
    expect(layer.Properties.CompatibleRuntimes).toEqual(['nodejs24.x']);
    expect(layer.Properties.CompatibleArchitectures).toEqual(['arm64']);
    expect(makefile).toMatch(new RegExp(`^build-${layerId}:\\n\\t\\$\\(BUILD\\) --layer --artifacts-dir "\\$\\(ARTIFACTS_DIR\\)"`, 'm'));
    for (const [id, fn] of functions) {
      const step = (fn.Metadata.BuildProperties.EntryPoints[0] as string).split('/')[1];
      expect(makefile, id).toMatch(new RegExp(`^build-${id}:\\n\\t\\$\\(BUILD\\) --function ${step} --artifacts-dir "\\$\\(ARTIFACTS_DIR\\)"`, 'm'));
    }
    expect(makefile).toMatch(/^BUILD := node scripts\/build\.mjs$/m);
  });
});

describe('template: queue', () => {
  const queue = template.Resources.ForecastQueue.Properties;
  const dlq = template.Resources.ForecastDeadLetterQueue.Properties;

  it('is a FIFO queue with a FIFO dead-letter queue, both encrypted, the DLQ keeping messages 14 days', () => {
    expect(queue.FifoQueue).toBe(true);
    expect(dlq.FifoQueue).toBe(true);
    expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['ForecastDeadLetterQueue', 'Arn'] });
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(3);
    expect(queue.SqsManagedSseEnabled || queue.KmsMasterKeyId).toBeTruthy();
    expect(dlq.SqsManagedSseEnabled || dlq.KmsMasterKeyId).toBeTruthy();
    expect(dlq.MessageRetentionPeriod).toBe(1209600);
  });

  it('triggers parse one message at a time with partial batch responses; visibility ≥ 6× its timeout', () => {
    const parse = fnByName.ParseFunction!;
    const event = Object.values(parse.Properties.Events as Json)[0] as Json;
    expect(event.Type).toBe('SQS');
    expect(event.Properties.Queue).toEqual({ 'Fn::GetAtt': ['ForecastQueue', 'Arn'] });
    expect(event.Properties.BatchSize).toBe(1);
    expect(event.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * parse.Properties.Timeout);
  });

  it('lets parse send a rejected message to the DLQ itself (and only there)', () => {
    const parse = fnByName.ParseFunction!;
    expect(parse.Properties.Environment.Variables.DEAD_LETTER_QUEUE_URL).toEqual({ Ref: 'ForecastDeadLetterQueue' });
    const send = (parse.Properties.Policies as Json[]).filter((p) => p && 'SQSSendMessagePolicy' in p);
    expect(send).toEqual([{ SQSSendMessagePolicy: { QueueName: { 'Fn::GetAtt': ['ForecastDeadLetterQueue', 'QueueName'] } } }]);
  });
});

describe('template: alarms', () => {
  const alarms = Object.fromEntries(resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, r]) => [id, r.Properties as Json]));
  const onTopic = { 'Fn::If': ['HasNotificationTopic', [{ Ref: 'NotificationTopic' }], { Ref: 'AWS::NoValue' }] };

  it('alarms as soon as the DLQ holds a message, on the notification topic when there is one', () => {
    expect(alarms.DeadLetterQueueAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ForecastDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: onTopic,
    });
  });

  it('alarms on any failed execution of the state machine, on the notification topic when there is one', () => {
    expect(alarms.FailedExecutionsAlarm).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'ForecastStateMachine' } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: onTopic,
    });
  });

  it('alarms on any timed-out or aborted execution (no Catch runs for them), on the notification topic when there is one', () => {
    for (const [id, metric] of [['TimedOutExecutionsAlarm', 'ExecutionsTimedOut'], ['AbortedExecutionsAlarm', 'ExecutionsAborted']] as const) {
      expect(alarms[id]).toMatchObject({
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'ForecastStateMachine' } }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: onTopic,
      });
    }
  });

  it('uses the topic only under its condition (the topic is optional)', () => {
    expect(template.Resources.NotificationTopic.Condition).toBe('HasNotificationTopic');
    for (const alarm of Object.values(alarms)) expect(alarm.AlarmActions['Fn::If'][0]).toBe('HasNotificationTopic');
  });
});

describe('template: bucket', () => {
  const bucket = template.Resources.DataBucket.Properties;

  it('is encrypted, blocks every kind of public access and enforces bucket-owner ownership', () => {
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toMatch(/AES256|aws:kms/);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.OwnershipControls.Rules[0].ObjectOwnership).toBe('BucketOwnerEnforced');
  });

  it('denies every request without TLS, on the bucket and its objects', () => {
    const policy = template.Resources.DataBucketPolicy.Properties;
    expect(policy.Bucket).toEqual({ Ref: 'DataBucket' });
    const deny = (policy.PolicyDocument.Statement as Json[]).find((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({ Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(deny!.Resource).toEqual([{ 'Fn::GetAtt': ['DataBucket', 'Arn'] }, { 'Fn::Sub': '${DataBucket.Arn}/*' }]);
  });
});

describe('template: least privilege', () => {
  it('uses no *FullAccess managed policy and never allows Action "*" or "service:*"', () => {
    const text = readFileSync(join(ROOT, 'template.yaml'), 'utf8');
    expect(text).not.toMatch(/FullAccess/);
    for (const [id, fn] of functions) expect(fn.Properties.ManagedPolicyArns ?? [], id).toEqual([]);
    for (const { owner, statement } of allStatements()) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of asArray(statement.Action) as string[]) {
        expect(action, owner).not.toBe('*');
        expect(action, owner).not.toMatch(/:\*$/);
      }
    }
  });

  it('allows Resource "*" only for actions AWS cannot scope (List*, log delivery)', () => {
    for (const { owner, statement } of allStatements()) {
      if (statement.Effect !== 'Allow' || !asArray(statement.Resource).includes('*')) continue;
      for (const action of asArray(statement.Action) as string[]) expect(action, owner).toMatch(UNSCOPED_ACTIONS);
    }
  });

  it('grants each function exactly the Forecast actions its step calls, on Forecast ARNs of this account', () => {
    for (const [id, fn] of functions) {
      const granted = statementsOf(fn)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => asArray(s.Action) as string[])
        .filter((a) => a.startsWith('forecast:'))
        .map((a) => a.slice('forecast:'.length));
      expect(granted.sort(), id).toEqual([...FORECAST_ACTIONS[id]!].sort());
      for (const s of statementsOf(fn).filter((s) => (asArray(s.Action) as string[]).some((a) => a.startsWith('forecast:')))) {
        for (const resource of asArray(s.Resource)) {
          if (resource === '*') continue;
          expect(JSON.stringify(resource), id).toMatch(/arn:\$\{AWS::Partition\}:forecast:(\$\{AWS::Region\}:\$\{AWS::AccountId\}|:):/);
        }
      }
    }
  });

  it('grants every Forecast command a create step sends (read from the step module)', () => {
    for (const [id, module] of Object.entries(STEP_MODULES)) {
      const source = readFileSync(join(ROOT, 'shared', 'steps', `${module}.ts`), 'utf8');
      const imported = source.slice(0, source.indexOf("} from '@aws-sdk/client-forecast'"));
      const commands = [...imported.matchAll(/\b([A-Z][A-Za-z]+)Command\b/g)].map((m) => m[1]!);
      expect(commands.length, id).toBeGreaterThan(0);
      for (const command of commands) expect(FORECAST_ACTIONS[id], `${id} sends ${command}`).toContain(command);
    }
  });

  it('lets only the import and forecast steps pass the Forecast role, and only to Forecast', () => {
    const passers: string[] = [];
    for (const { owner, statement } of allStatements()) {
      if (!(asArray(statement.Action) as string[]).includes('iam:PassRole')) continue;
      passers.push(owner);
      expect(statement.Resource, owner).toEqual({ 'Fn::GetAtt': ['ForecastServiceRole', 'Arn'] });
      expect(statement.Condition, owner).toEqual({ StringEquals: { 'iam:PassedToService': 'forecast.amazonaws.com' } });
    }
    expect(passers.sort()).toEqual(['CreateForecastsFunction', 'CreateImportJobsFunction']);
  });

  it('lets only Forecast assume the Forecast role (this account), with access to the data bucket only', () => {
    const role = template.Resources.ForecastServiceRole.Properties;
    const trust = role.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      { Effect: 'Allow', Principal: { Service: 'forecast.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
    const resources = (role.Policies as Json[]).flatMap((p) => (p.PolicyDocument.Statement as Json[]).flatMap((s) => asArray(s.Resource)));
    expect(resources).toEqual([{ 'Fn::GetAtt': ['DataBucket', 'Arn'] }, { 'Fn::Sub': '${DataBucket.Arn}/*' }]);
  });

  it('gives the secret, S3 and SNS only to the functions that use them', () => {
    const uses = (id: string) => policyTemplatesOf(fnByName[id]!).sort();
    expect(uses('ParseFunction')).toEqual(['AWSSecretsManagerGetSecretValuePolicy', 'SQSSendMessagePolicy']);
    expect(uses('NotifyFunction')).toEqual(['AWSSecretsManagerGetSecretValuePolicy', 'S3ReadPolicy', 'SNSPublishMessagePolicy']);
    expect(uses('FailureFunction')).toEqual(['AWSSecretsManagerGetSecretValuePolicy', 'SNSPublishMessagePolicy']);
    for (const id of Object.keys(FORECAST_ACTIONS).filter((f) => /^(Create|Delete)/.test(f))) expect(uses(id), id).toEqual([]);
    const parseStates = statementsOf(fnByName.ParseFunction!).flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('states:'));
    expect(parseStates.sort()).toEqual(['states:DescribeExecution', 'states:StartExecution']);
  });

  it('lets parse write and delete objects of the data bucket only: no reads, no listing, no bucket-level writes', () => {
    const s3 = statementsOf(fnByName.ParseFunction!).filter((s) => asArray(s.Action).some((a: string) => a.startsWith('s3:')));
    expect(s3).toEqual([{ Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'], Resource: { 'Fn::Sub': '${DataBucket.Arn}/*' } }]);
  });

  it('lets the state machine invoke exactly the step functions', () => {
    const machine = template.Resources.ForecastStateMachine.Properties;
    const invoked = (machine.Policies as Json[]).filter((p) => p.LambdaInvokePolicy).map((p) => p.LambdaInvokePolicy.FunctionName.Ref);
    expect(invoked.sort()).toEqual(Object.keys(FORECAST_ACTIONS).filter((id) => id !== 'ParseFunction').sort());
  });
});

describe('template: secrets and logs', () => {
  it('takes Snowflake credentials only as a Secrets Manager ARN; no plaintext secret anywhere', () => {
    const parameter = template.Parameters.SnowflakeSecretArn;
    expect(parameter.AllowedPattern).toMatch(/secretsmanager/);
    expect(globals.Environment.Variables.SNOWFLAKE_SECRET_ARN).toEqual({ Ref: 'SnowflakeSecretArn' });
    for (const [id, fn] of [['Globals', { Properties: globals }] as const, ...functions]) {
      for (const [name, value] of Object.entries((fn.Properties.Environment?.Variables ?? {}) as Json)) {
        if (/PASSWORD|TOKEN|PRIVATE_KEY|SECRET(?!_ARN)/i.test(name)) throw new Error(`${id}: ${name} looks like a plaintext secret`);
        if (typeof value === 'string') expect(value, `${id}.${name}`).not.toMatch(/password|BEGIN .*PRIVATE KEY/i);
      }
    }
    for (const name of Object.keys(template.Parameters as Json)) expect(name).not.toMatch(/password|token|privatekey/i);
  });

  it('sets a retention on every log group and sends every function and the state machine there', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(2);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toEqual({ Ref: 'LogRetentionDays' });
    expect(globals.LoggingConfig.LogGroup).toEqual({ Ref: 'FunctionLogGroup' });
    for (const [id, fn] of functions) expect(fn.Properties.LoggingConfig, id).toBeUndefined();
    const logging = template.Resources.ForecastStateMachine.Properties.Logging;
    expect(logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).toEqual({ 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] });
  });

  it('creates the SNS topic only when asked, encrypted, and hands its ARN to notify and failure', () => {
    const topic = template.Resources.NotificationTopic;
    expect(topic.Condition).toBe('HasNotificationTopic');
    expect(topic.Properties.KmsMasterKeyId).toBeTruthy();
    expect(globals.Environment.Variables.NOTIFY_TOPIC_ARN).toEqual({ 'Fn::If': ['HasNotificationTopic', { Ref: 'NotificationTopic' }, ''] });
  });
});

describe('template: state machine and outputs', () => {
  it('loads the ASL file with a substitution per function ARN', () => {
    const machine = template.Resources.ForecastStateMachine.Properties;
    expect(machine.DefinitionUri).toBe('statemachine/forecast.asl.json');
    expect(machine.Definition).toBeUndefined();
    for (const [name, value] of Object.entries(machine.DefinitionSubstitutions as Json)) {
      const target = name.replace(/Arn$/, '');
      expect(fnByName[target], name).toBeDefined();
      expect(value).toEqual({ 'Fn::GetAtt': [target, 'Arn'] });
    }
  });

  it('outputs the queue URL, the bucket and the state machine ARN', () => {
    expect(template.Outputs.ForecastQueueUrl.Value).toEqual({ Ref: 'ForecastQueue' });
    expect(template.Outputs.DataBucketName.Value).toEqual({ Ref: 'DataBucket' });
    expect(template.Outputs.StateMachineArn.Value).toEqual({ Ref: 'ForecastStateMachine' });
  });

  it('passes cfn-lint (with the SAM transform) without a finding, for either ForecastBackend', () => {
    const output = execFileSync('cfn-lint', ['template.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(output.trim()).toBe('');
    const builtin = execFileSync('cfn-lint', ['--parameters', 'ForecastBackend=builtin', '--', 'template.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(builtin.trim()).toBe('');
  });
});

describe('template: tracing and memory', () => {
  it('traces every function and the state machine with X-Ray', () => {
    expect(globals.Tracing).toBe('Active');
    for (const [id, fn] of functions) expect(fn.Properties.Tracing ?? globals.Tracing, id).toBe('Active');
    for (const [id, machine] of resourcesOfType(template, 'AWS::Serverless::StateMachine')) expect(machine.Properties.Tracing, id).toEqual({ Enabled: true });
  });

  it('gives the functions that load snowflake-sdk more than the 256 MB default (measured in docs/aws.md)', () => {
    const memory = (id: string) => fnByName[id]!.Properties.MemorySize ?? globals.MemorySize;
    for (const id of ['ParseFunction', 'NotifyFunction', 'FailureFunction']) expect(memory(id), id).toBeGreaterThanOrEqual(512);
    expect(globals.MemorySize).toBe(256);
  });
});
