import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateAutoPredictorCommand,
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  DescribeDatasetGroupCommand,
  CreateForecastCommand,
  CreatePredictorCommand,
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DeletePredictorCommand,
  DeleteResourceTreeCommand,
  DescribeDatasetCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
  InvalidInputException,
  LimitExceededException,
  ListDatasetImportJobsCommand,
  ListPredictorsCommand,
  ResourceAlreadyExistsException,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreatePredictorCommandInput,
} from '@aws-sdk/client-forecast';
import { FaultInjector, parseFaults } from '../../engine/faults';
import { listResources } from '../../engine/resources';
import { dailyCsv, describePredictor, engineFixture, eventually, importedGroup, TARGET_SCHEMA, waitFor, type EngineFixture } from './engine-helpers';

const ARN = 'arn:aws:forecast:us-east-1:000000000000';

const predictorInput = (DatasetGroupArn: string, overrides: Partial<CreatePredictorCommandInput> = {}): CreatePredictorCommandInput => ({
  PredictorName: 'p_NPTS',
  AlgorithmArn: 'arn:aws:forecast:::algorithm/NPTS',
  ForecastHorizon: 5,
  InputDataConfig: { DatasetGroupArn },
  FeaturizationConfig: { ForecastFrequency: 'D' },
  ...overrides,
});

describe('Engine client: exceptions and resource rules', () => {
  let fx: EngineFixture;
  beforeEach(async () => {
    fx = await engineFixture();
  });
  afterEach(async () => fx.cleanup());

  const createDataset = (DatasetName: string) =>
    fx.engine.send(new CreateDatasetCommand({ DatasetName, Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'D', Schema: TARGET_SCHEMA }));

  it.each([
    ['starts with a digit', '1demo'],
    ['has a hyphen', 'de-mo'],
    ['is longer than 63 characters', `a${'b'.repeat(63)}`],
    ['is empty', ''],
  ])('throws InvalidInputException when a name %s', async (_, name) => {
    // Act
    const create = createDataset(name);

    // Assess
    await expect(create).rejects.toBeInstanceOf(InvalidInputException);
  });

  it('returns ARNs in the service format, for the region and the local account', async () => {
    // Act
    const { DatasetArn } = await createDataset('demo_TARGET');

    // Assess
    expect(DatasetArn).toBe(`${ARN}:dataset/demo_TARGET`);
  });

  it('throws ResourceAlreadyExistsException on a second create of the same name', async () => {
    // Prepare
    await createDataset('demo_TARGET');

    // Act
    const again = createDataset('demo_TARGET');

    // Assess
    await expect(again).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
  });

  it('throws ResourceNotFoundException for an unknown ARN', async () => {
    // Act
    const describe = fx.engine.send(new DescribeDatasetCommand({ DatasetArn: `${ARN}:dataset/nope` }));

    // Assess
    await expect(describe).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('throws InvalidInputException when a target dataset lacks target_value', async () => {
    // Act
    const create = fx.engine.send(
      new CreateDatasetCommand({
        DatasetName: 'bad',
        Domain: 'CUSTOM',
        DatasetType: 'TARGET_TIME_SERIES',
        DataFrequency: 'D',
        Schema: { Attributes: [{ AttributeName: 'item_id', AttributeType: 'string' }, { AttributeName: 'timestamp', AttributeType: 'timestamp' }] },
      }),
    );

    // Assess
    await expect(create).rejects.toThrow(/missing target_value/);
  });

  it('dispatches by command class, also for a subclass with another constructor name', async () => {
    // Prepare
    class Renamed extends CreateDatasetCommand {}

    // Act
    const out = await fx.engine.send(new Renamed({ DatasetName: 'x_TARGET', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'W', Schema: TARGET_SCHEMA }));

    // Assess
    expect(out.DatasetArn).toBe(`${ARN}:dataset/x_TARGET`);
  });

  it('refuses to delete a dataset with import jobs, and a group with predictors (ResourceInUseException)', async () => {
    // Prepare
    const { DatasetArn, DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    const { PredictorArn } = await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn)));
    await waitFor(() => describePredictor(fx, PredictorArn!));

    // Act
    const deleteDataset = await fx.engine.send(new DeleteDatasetCommand({ DatasetArn })).catch((e: unknown) => e);
    const deleteGroup = await fx.engine.send(new DeleteDatasetGroupCommand({ DatasetGroupArn })).catch((e: unknown) => e);

    // Assess
    expect(deleteDataset).toBeInstanceOf(ResourceInUseException);
    expect(deleteGroup).toBeInstanceOf(ResourceInUseException);
    expect((deleteGroup as Error).message).toMatch(/child resource/);
  });

  it('deletes asynchronously and allows the name again only after the delete finished', async () => {
    // Prepare
    const { DatasetArn } = await createDataset('reuse_me');

    // Act
    await fx.engine.send(new DeleteDatasetCommand({ DatasetArn }));
    const during = await fx.engine.send(new DescribeDatasetCommand({ DatasetArn }));
    const recreateTooEarly = createDataset('reuse_me');
    await expect(recreateTooEarly).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
    await eventually(() => fx.engine.send(new DescribeDatasetCommand({ DatasetArn })).then(() => false, (e: unknown) => e instanceof ResourceNotFoundException));
    const recreated = await createDataset('reuse_me');

    // Assess
    expect(during.Status).toBe('DELETE_IN_PROGRESS');
    expect(recreated.DatasetArn).toBe(DatasetArn);
  });

  it('deletes a whole tree with DeleteResourceTree but keeps the datasets', async () => {
    // Prepare
    const { DatasetArn, DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    const { PredictorArn } = await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn)));
    await waitFor(() => describePredictor(fx, PredictorArn!));

    // Act
    await fx.engine.send(new DeleteResourceTreeCommand({ ResourceArn: DatasetGroupArn }));
    await eventually(() => fx.engine.send(new DescribeDatasetGroupCommand({ DatasetGroupArn })).then(() => false, () => true));
    const predictor = await fx.engine.send(new DescribePredictorCommand({ PredictorArn })).catch((e: unknown) => e);
    const dataset = await fx.engine.send(new DescribeDatasetCommand({ DatasetArn }));

    const leftData = await fx.store.list('s3://bucket/.engine/data/predictor/');

    // Assess
    expect(predictor).toBeInstanceOf(ResourceNotFoundException);
    expect(dataset.Status).toBe('ACTIVE');
    expect(leftData).toEqual([]);
  });

  it('lists every resource with type, name and status (listResources)', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, { PredictorName: 'listed', EvaluationParameters: { BackTestWindowOffset: 30 } })));
    await fx.engine.idle();

    // Act
    const rows = await listResources(fx.engine);

    // Assess
    expect(rows.map(({ type, name, status }) => ({ type, name, status }))).toEqual([
      { type: 'dataset-group', name: 'demo_group', status: 'ACTIVE' },
      { type: 'dataset', name: 'demo_TARGET', status: 'ACTIVE' },
      { type: 'dataset-import-job', name: 'demo_import', status: 'ACTIVE' },
      { type: 'predictor', name: 'listed', status: 'CREATE_FAILED' },
    ]);
    expect(rows[3]!.message).toMatch(/BackTestWindowOffset/);
  });

  it.each<[string, Partial<CreatePredictorCommandInput>, RegExp]>([
    ['a horizon above 500', { ForecastHorizon: 501 }, /ForecastHorizon must be an integer from 1 to 500/],
    ['6 backtest windows', { EvaluationParameters: { NumberOfBacktestWindows: 6 } }, /NumberOfBacktestWindows/],
    ['an offset below the horizon', { EvaluationParameters: { BackTestWindowOffset: 4 } }, /BackTestWindowOffset \(4\) must be ≥ ForecastHorizon \(5\)/],
    ['PerformAutoML with PerformHPO', { AlgorithmArn: undefined, PerformAutoML: true, PerformHPO: true }, /PerformHPO must be false when PerformAutoML/],
    ['an unknown algorithm ARN', { AlgorithmArn: 'arn:aws:forecast:::algorithm/MQ-RNN' }, /not a supported algorithm.*algorithm\/CNN-QR.*algorithm\/Deep_AR_Plus/],
    ['PerformHPO with NPTS', { PerformHPO: true }, /PerformHPO applies only to DeepAR\+ and CNN-QR/],
    ['a DeepAR+ hyperparameter on CNN-QR', { AlgorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR', TrainingParameters: { num_cells: '40' } }, /TrainingParameters.num_cells is not a hyperparameter of CNN-QR/],
    ['CNN-QR epochs of 0', { AlgorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR', TrainingParameters: { epochs: '0' } }, /TrainingParameters.epochs must be an integer from 1 to 1000, got "0"/],
    ['DeepAR+ num_cells of 10', { AlgorithmArn: 'arn:aws:forecast:::algorithm/Deep_AR_Plus', TrainingParameters: { num_cells: '10' } }, /TrainingParameters.num_cells must be an integer from 30 to 200/],
    ['DeepAR+ likelihood beta', { AlgorithmArn: 'arn:aws:forecast:::algorithm/Deep_AR_Plus', TrainingParameters: { likelihood: 'beta' } }, /likelihood "beta" is not implemented by the built-in engine/],
    ['DeepAR+ learning_rate_decay', { AlgorithmArn: 'arn:aws:forecast:::algorithm/Deep_AR_Plus', TrainingParameters: { learning_rate_decay: '0.5' } }, /learning_rate_decay .* is not implemented by the built-in engine/],
    ['an unknown NPTS hyperparameter', { TrainingParameters: { likelihood: 'gaussian' } }, /TrainingParameters.likelihood is not a hyperparameter of NPTS/],
    ['a bad kernel_type', { TrainingParameters: { kernel_type: 'gauss' } }, /kernel_type must be exponential or uniform/],
    ['a quantile of 1.5', { ForecastTypes: ['0.5', '1.5'] }, /"1.5" is neither mean nor a quantile/],
    ['six forecast types', { ForecastTypes: ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6'] }, /1 to 5 forecast types/],
    ['middlefill "linear"', { FeaturizationConfig: { ForecastFrequency: 'D', Featurizations: [{ AttributeName: 'target_value', FeaturizationPipeline: [{ FeaturizationMethodName: 'filling', FeaturizationMethodParameters: { middlefill: 'linear' } }] }] } }, /middlefill must be one of/],
    ['a bad frequency', { FeaturizationConfig: { ForecastFrequency: '7D' } }, /ForecastFrequency/],
  ])('throws InvalidInputException for %s', async (_, overrides, message) => {
    // Prepare
    const { DatasetGroupArn } = await fx.engine
      .send(new CreateDatasetGroupCommand({ DatasetGroupName: 'g', Domain: 'CUSTOM' }))
      .then((o) => ({ DatasetGroupArn: o.DatasetGroupArn! }));

    // Act
    const create = fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, overrides)));

    // Assess
    await expect(create).rejects.toBeInstanceOf(InvalidInputException);
    await expect(create).rejects.toThrow(message);
  });

  it('ends CREATE_FAILED with a message when the backtest offset is not below half the data length', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b'], 20));

    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreatePredictorCommand(predictorInput(DatasetGroupArn, { EvaluationParameters: { BackTestWindowOffset: 10 } })),
    );
    const out = await waitFor(() => describePredictor(fx, PredictorArn!));

    // Assess
    expect(out.Status).toBe('CREATE_FAILED');
    expect(out.Message).toMatch(/ForecastHorizon \(5\) ≤ offset < ½ · dataset length \(20\); got 10/);
  });

  it('throws ResourceInUseException for GetAccuracyMetrics / CreateForecast while the predictor is not ACTIVE, and for deleting it', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    const { PredictorArn } = await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn)));

    // Act
    const metrics = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn })).catch((e: unknown) => e);
    const forecast = await fx.engine.send(new CreateForecastCommand({ ForecastName: 'f', PredictorArn })).catch((e: unknown) => e);
    const remove = await fx.engine.send(new DeletePredictorCommand({ PredictorArn })).catch((e: unknown) => e);

    // Assess
    expect(metrics).toBeInstanceOf(ResourceInUseException);
    expect(forecast).toBeInstanceOf(ResourceInUseException);
    expect(remove).toBeInstanceOf(ResourceInUseException);
    expect((remove as Error).message).toMatch(/only ACTIVE or CREATE_FAILED/);
  });

  it('lists with filters and NextToken/MaxResults paging', async () => {
    // Prepare
    const { DatasetArn, DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    for (const name of ['p1', 'p2', 'p3']) {
      await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, { PredictorName: name })));
    }

    // Act
    const first = await fx.engine.send(new ListPredictorsCommand({ MaxResults: 2, Filters: [{ Key: 'DatasetGroupArn', Value: DatasetGroupArn, Condition: 'IS' }] }));
    const second = await fx.engine.send(new ListPredictorsCommand({ MaxResults: 2, NextToken: first.NextToken, Filters: [{ Key: 'DatasetGroupArn', Value: DatasetGroupArn, Condition: 'IS' }] }));
    const none = await fx.engine.send(new ListPredictorsCommand({ Filters: [{ Key: 'DatasetGroupArn', Value: `${ARN}:dataset-group/other`, Condition: 'IS' }] }));
    const imports = await fx.engine.send(new ListDatasetImportJobsCommand({ Filters: [{ Key: 'DatasetArn', Value: DatasetArn, Condition: 'IS' }] }));

    // Assess
    expect(first.Predictors!.map((p) => p.PredictorName)).toEqual(['p1', 'p2']);
    expect(second.Predictors!.map((p) => p.PredictorName)).toEqual(['p3']);
    expect(second.NextToken).toBeUndefined();
    expect(none.Predictors).toEqual([]);
    expect(imports.DatasetImportJobs!.map((j) => j.DatasetImportJobArn)).toEqual([`${ARN}:dataset-import-job/demo_TARGET/demo_import`]);
  });
});

describe('Engine client: quotas and injected faults', () => {
  let fx: EngineFixture;
  afterEach(async () => fx.cleanup());

  it('throws LimitExceededException for a 4th concurrent predictor', async () => {
    // Prepare
    fx = await engineFixture({ timing: { pendingMs: 3_000, deleteMs: 30, heartbeatMs: 200, leaseMs: 2_000 } });
    const { DatasetGroupArn } = await fx.engine
      .send(new CreateDatasetGroupCommand({ DatasetGroupName: 'g', Domain: 'CUSTOM' }))
      .then((o) => ({ DatasetGroupArn: o.DatasetGroupArn! }));
    for (const name of ['p1', 'p2', 'p3']) await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, { PredictorName: name })));

    // Act
    const fourth = fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, { PredictorName: 'p4' })));

    // Assess
    await expect(fourth).rejects.toBeInstanceOf(LimitExceededException);
    await expect(fourth).rejects.toThrow(/at most 3 may run concurrently/);
  });

  it('throws the injected SDK exception for the first N calls of an operation, then works', async () => {
    // Prepare
    fx = await engineFixture({
      faults: new FaultInjector(parseFaults('[{"operation":"CreateDatasetGroup","error":"LimitExceededException","times":1},{"operation":"CreateDatasetGroup","error":"ThrottlingException","times":1}]')),
    });
    const create = () => fx.engine.send(new CreateDatasetGroupCommand({ DatasetGroupName: 'g', Domain: 'CUSTOM' }));

    // Act
    const first = await create().catch((e: unknown) => e as Error);
    const second = await create().catch((e: unknown) => e as Error);
    const third = await create();

    // Assess
    expect(first).toBeInstanceOf(LimitExceededException);
    expect((second as Error).name).toBe('ThrottlingException');
    expect(third.DatasetGroupArn).toBe(`${ARN}:dataset-group/g`);
  });

  it('ends matching resources CREATE_FAILED with a message', async () => {
    // Prepare
    fx = await engineFixture({ faults: new FaultInjector(parseFaults('[{"resource":"predictor","match":"ARIMA","status":"CREATE_FAILED"}]')) });
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));

    // Act
    const ok = await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, { PredictorName: 'demo_NPTS' })));
    const bad = await fx.engine.send(new CreatePredictorCommand(predictorInput(DatasetGroupArn, { PredictorName: 'demo_ARIMA' })));
    const okOut = await waitFor(() => describePredictor(fx, ok.PredictorArn!));
    const badOut = await waitFor(() => describePredictor(fx, bad.PredictorArn!));

    // Assess
    expect(okOut.Status).toBe('ACTIVE');
    expect(badOut).toMatchObject({ Status: 'CREATE_FAILED', Message: expect.stringMatching(/Injected fault/) });
  });

  it('rejects malformed fault rules naming the rule', () => {
    // Act
    const parse = () => parseFaults('[{"operation":"CreatePredictor","error":"Boom"}]');

    // Assess
    expect(parse).toThrow(/FORECAST_FAULTS\[0\]/);
    expect(() => parseFaults('{')).toThrow(/not valid JSON/);
  });
});

describe('Engine client: auto predictors', () => {
  let fx: EngineFixture;
  afterEach(async () => fx.cleanup());

  it('trains an AutoPredictor with a per-series choice and reports it as an auto predictor', async () => {
    // Prepare
    fx = await engineFixture();
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b'], 50));

    // Act
    const { PredictorArn } = await fx.engine.send(
      new CreateAutoPredictorCommand({ PredictorName: 'auto', ForecastHorizon: 5, ForecastFrequency: 'D', DataConfig: { DatasetGroupArn } }),
    );
    const out = await waitFor(() => describePredictor(fx, PredictorArn!), 60_000);
    const metrics = await fx.engine.send(new GetAccuracyMetricsCommand({ PredictorArn }));

    // Assess
    expect(out.Status).toBe('ACTIVE');
    expect(metrics.IsAutoPredictor).toBe(true);
    expect(metrics.PredictorEvaluationResults).toHaveLength(1);
  });
});
