/**
 * Conformance of the step Lambdas with the built-in engine (issue 4, "Done when": the step tests pass
 * against the engine as well as against the mocked Amazon client). The SAME step code runs against the
 * real engine on a temp folder store: the create path through the handlers (setDependencies, the state
 * JSON round-tripped as Step Functions does), redelivery, deletes run twice; failure, partial failure
 * and quota/throttling scenarios run against both backends with the same assertions — the mocked
 * Amazon client interprets the same fault rules the engine takes (engine/faults.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
  ListPredictorsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-forecast';
import { ResourceFailed } from '../../shared/errors';
import type { ForecastPort } from '../../shared/ports';
import { setDependencies, type Dependencies } from '../../shared/runtime';
import type { PipelineState, PredictorSpec } from '../../shared/state';
import { hasErrorName } from '../../shared/steps/common';
import { createDatasets } from '../../shared/steps/create-dataset';
import { createDatasetGroup } from '../../shared/steps/create-dataset-group';
import { createImportJobs } from '../../shared/steps/create-import-jobs';
import { createPredictors } from '../../shared/steps/create-predictors';
import { createForecasts } from '../../shared/steps/create-forecasts';
import { deleteDatasets, deleteForecasts, deletePredictors } from '../../shared/steps/delete-resources';
import { handler as createDatasetHandler } from '../../lambdas/create-dataset/handler';
import { handler as createDatasetGroupHandler } from '../../lambdas/create-dataset-group/handler';
import { handler as createImportJobsHandler } from '../../lambdas/create-import-jobs/handler';
import { handler as createPredictorsHandler } from '../../lambdas/create-predictors/handler';
import { handler as createForecastsHandler } from '../../lambdas/create-forecasts/handler';
import { handler as deleteForecastsHandler } from '../../lambdas/delete-forecasts/handler';
import { handler as deletePredictorsHandler } from '../../lambdas/delete-predictors/handler';
import { handler as deleteDatasetsHandler } from '../../lambdas/delete-datasets/handler';
import { FaultInjector, type FaultRule } from '../../engine/faults';
import { dailyCsv, engineFixture, type EngineFixture } from '../unit/engine-helpers';
import { arn, mockedForecast, pipelineState, ROLE_ARN, serviceError } from '../unit/steps-fixture';

const ITEMS = ['item_a', 'item_b', 'item_c'];
const DAYS = 60;
const HORIZON = 7;
const settings = { bucket: 'data-bucket', forecastRoleArn: ROLE_ARN };
/** Accuracy metrics are not this suite's subject: no EMF lines in the test output. */
const publishMetrics = () => undefined;

type ModelChoice = [name: string, model: PredictorSpec['model'], algorithm: string, extra?: Partial<PredictorSpec>];

/** The fixture's run cut down to one target dataset and two models (ETS, NPTS by default), horizon 7. */
function conformanceState(models: readonly ModelChoice[] = [['demo_ETS_2', 'ETS', 'ETS'], ['demo_NPTS_2', 'NPTS', 'NPTS']]): PipelineState {
  const base = pipelineState();
  const ets = base.predictors.find((p) => p.model === 'ETS')!;
  const model = ([name, m, algorithm, extra]: ModelChoice): PredictorSpec => ({
    ...ets,
    name,
    model: m,
    algorithmArn: `arn:aws:forecast:::algorithm/${algorithm}`,
    forecastHorizon: HORIZON,
    backtestWindows: 1,
    backtestWindowOffset: HORIZON,
    ...extra,
  });
  const predictors = models.map(model);
  const template = base.forecasts[0]!;
  return {
    ...base,
    run: { ...base.run, forecastHorizon: HORIZON },
    datasets: base.datasets.filter((d) => d.kind === 'TARGET'),
    predictors,
    forecasts: predictors.map((p) => ({
      ...template,
      name: `${p.name}_forecast`,
      predictorName: p.name,
      model: p.model,
      exportJobName: `${p.name}_export`,
      exportS3Uri: template.exportS3Uri.replace(template.name, `${p.name}_forecast`),
    })),
  };
}

/** A new state object carrying only `slices` of `from` (a redelivered message, parsed again). */
function freshState(from: PipelineState, slices: readonly (keyof PipelineState['results'])[]): PipelineState {
  const state = JSON.parse(JSON.stringify(conformanceState())) as PipelineState;
  for (const slice of slices) Object.assign(state.results, { [slice]: from.results[slice] });
  return state;
}

/** Calls a step again while it throws ResourcePending (as the ASL's Retry does), counting the waits. */
async function untilSettled<T>(step: () => Promise<T>, timeoutMs = 20_000): Promise<{ slice: T; pending: number; reasons: string[] }> {
  const until = Date.now() + timeoutMs;
  const reasons: string[] = [];
  for (;;) {
    try {
      return { slice: await step(), pending: reasons.length, reasons };
    } catch (error) {
      if (!hasErrorName(error, 'ResourcePending')) throw error;
      reasons.push((error as Error).message);
      if (Date.now() > until) throw new Error(`still pending after ${timeoutMs} ms: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  }
}

/** The error names the state machine's Retry of `stateName` lists (statemachine/forecast.asl.json). */
function aslRetriedErrors(stateName: string): string[] {
  const asl = JSON.parse(readFileSync(new URL('../../statemachine/forecast.asl.json', import.meta.url), 'utf8')) as {
    States: Record<string, { Retry?: { ErrorEquals: string[] }[] }>;
  };
  return (asl.States[stateName]?.Retry ?? []).flatMap((r) => r.ErrorEquals);
}

async function openEngine(faults: FaultRule[] = []): Promise<EngineFixture> {
  const fx = await engineFixture({ faults: new FaultInjector(faults) });
  const target = conformanceState().datasets[0]!;
  // As parse writes it: headerless, columns in schema order (timestamp, item_id, target_value).
  await fx.store.put(target.s3Uri, dailyCsv(ITEMS, DAYS));
  return fx;
}

/** Runs dataset → group → import on `forecast`: the state Create-Predictors receives. */
async function importedState(forecast: ForecastPort, models?: readonly ModelChoice[]): Promise<PipelineState> {
  const state = conformanceState(models);
  state.results.datasets = (await untilSettled(() => createDatasets(state, { forecast }))).slice;
  state.results.datasetGroup = (await untilSettled(() => createDatasetGroup(state, { forecast }))).slice;
  state.results.importJobs = (await untilSettled(() => createImportJobs(state, { forecast, settings }))).slice;
  return state;
}

// ---------------------------------------------------------------------------------------------
// The two backends of the parameterised scenarios.

interface Backend {
  readonly forecast: ForecastPort;
  /** The state after dataset, group and import (what Create-Predictors receives). */
  readonly state: PipelineState;
  close(): Promise<void>;
}

const { mock, client } = mockedForecast();

/**
 * Amazon Forecast as aws-sdk-client-mock answers it, for the model steps: creates return ARNs
 * (ResourceAlreadyExistsException for a name taken), the first Describe of a job says
 * CREATE_IN_PROGRESS, later ones ACTIVE — or CREATE_FAILED with the message of a matching fault
 * rule; operation fault rules make that create throw the SDK-shaped error. The same FaultInjector
 * decides for both backends.
 */
function openMockedAmazon(faults: FaultRule[]): Backend {
  mock.reset();
  const injector = new FaultInjector(faults);
  type Kind = 'predictor' | 'forecast' | 'forecastExportJob';
  const jobs = new Map<string, { kind: Kind; name: string; parent?: string; describes: number; failure?: string }>();
  const create = (operation: string, kind: Kind, type: string, id: string, name: string, parent?: string) => {
    const error = injector.operationError(operation);
    if (error) throw serviceError(error, `Injected ${error} on ${operation}`);
    const resourceArn = arn(type, id);
    if (jobs.has(resourceArn)) throw new ResourceAlreadyExistsException({ message: `${name} exists`, $metadata: {} });
    jobs.set(resourceArn, { kind, name, parent, describes: 0, failure: injector.resourceFailure(kind, name) });
    return resourceArn;
  };
  const status = (resourceArn: string) => {
    const job = jobs.get(resourceArn)!;
    job.describes++;
    if (job.describes === 1) return 'CREATE_IN_PROGRESS';
    return job.failure ? 'CREATE_FAILED' : 'ACTIVE';
  };
  const describe = (resourceArn: string) => {
    const Status = status(resourceArn);
    return { Status, ...(Status === 'CREATE_FAILED' ? { Message: jobs.get(resourceArn)!.failure } : {}) };
  };
  const listed = (kind: Kind, parent?: string) =>
    [...jobs].filter(([, j]) => j.kind === kind && (parent === undefined || j.parent === parent)).map(([a, j]) => ({ arn: a, job: j }));

  mock.on(CreatePredictorCommand).callsFake(async (input) => ({ PredictorArn: create('CreatePredictor', 'predictor', 'predictor', input.PredictorName, input.PredictorName) }));
  mock.on(DescribePredictorCommand).callsFake(async (input) => describe(input.PredictorArn));
  mock.on(ListPredictorsCommand).callsFake(async () => ({
    Predictors: listed('predictor').map(({ arn: a, job }) => ({ PredictorArn: a, PredictorName: job.name })),
  }));
  mock.on(GetAccuracyMetricsCommand).resolves({
    PredictorEvaluationResults: [
      {
        TestWindows: [
          {
            EvaluationType: 'SUMMARY',
            Metrics: {
              AverageWeightedQuantileLoss: 0.1,
              ErrorMetrics: [{ ForecastType: 'mean', WAPE: 0.1, RMSE: 1, MAPE: 0.1, MASE: 0.9 }],
              WeightedQuantileLosses: [{ Quantile: 0.5, LossValue: 0.1 }],
            },
          },
        ],
      },
    ],
  });
  mock.on(CreateForecastCommand).callsFake(async (input) => ({
    ForecastArn: create('CreateForecast', 'forecast', 'forecast', input.ForecastName, input.ForecastName, input.PredictorArn),
  }));
  mock.on(DescribeForecastCommand).callsFake(async (input) => describe(input.ForecastArn));
  mock.on(ListForecastsCommand).callsFake(async (input) => ({
    Forecasts: listed('forecast', input.Filters?.[0]?.Value).map(({ arn: a, job }) => ({ ForecastArn: a, ForecastName: job.name })),
  }));
  mock.on(CreateForecastExportJobCommand).callsFake(async (input) => {
    const forecastName = String(input.ForecastArn).split('/').pop();
    const name = input.ForecastExportJobName;
    return { ForecastExportJobArn: create('CreateForecastExportJob', 'forecastExportJob', 'forecast-export-job', `${forecastName}/${name}`, name, input.ForecastArn) };
  });
  mock.on(DescribeForecastExportJobCommand).callsFake(async (input) => describe(input.ForecastExportJobArn));
  mock.on(ListForecastExportJobsCommand).callsFake(async (input) => ({
    ForecastExportJobs: listed('forecastExportJob', input.Filters?.[0]?.Value).map(({ arn: a, job }) => ({ ForecastExportJobArn: a, ForecastExportJobName: job.name })),
  }));

  const state = conformanceState();
  state.results = {
    datasets: state.datasets.map((d) => ({ kind: d.kind, name: d.name, arn: arn('dataset', d.name) })),
    datasetGroup: { name: state.datasetGroup.name, arn: arn('dataset-group', state.datasetGroup.name) },
    importJobs: state.datasets.map((d) => ({ datasetName: d.name, name: d.importJobName, arn: arn('dataset-import-job', `${d.name}/${d.importJobName}`) })),
  };
  return { forecast: client, state, close: async () => void mock.reset() };
}

async function openEngineBackend(faults: FaultRule[]): Promise<Backend> {
  const fx = await openEngine(faults);
  const state = await importedState(fx.engine);
  return { forecast: fx.engine, state, close: () => fx.cleanup() };
}

const BACKENDS: readonly { name: string; open: (faults: FaultRule[]) => Promise<Backend> }[] = [
  { name: 'mocked Amazon Forecast', open: async (faults) => openMockedAmazon(faults) },
  { name: 'built-in engine', open: openEngineBackend },
];

// ---------------------------------------------------------------------------------------------

describe('Steps on the built-in engine: create path, redelivery, deletes (handlers with setDependencies)', () => {
  let fx: EngineFixture;
  /** The state as the state machine carries it: each handler's slice written under results. */
  let state: PipelineState;
  /** The state machine passes JSON between states: every handler gets a parsed copy. */
  const event = () => JSON.parse(JSON.stringify(state)) as unknown;

  beforeAll(async () => {
    fx = await openEngine();
    const unused = () => {
      throw new Error('not used by the Forecast steps');
    };
    const deps: Dependencies = { forecast: fx.engine, store: fx.store, warehouse: unused, workflow: { startExecution: unused, describeExecution: unused }, rejections: { reject: unused }, settings };
    setDependencies(deps);
    state = conformanceState();
  });
  afterAll(async () => {
    setDependencies(undefined);
    await fx.cleanup();
  });

  it('creates datasets, group, import, predictors, forecasts and exports; job steps are pending first, then return engine ARNs', async () => {
    // Act
    const datasets = await untilSettled(() => createDatasetHandler(event()));
    state.results.datasets = datasets.slice;
    const group = await untilSettled(() => createDatasetGroupHandler(event()));
    state.results.datasetGroup = group.slice;
    const imports = await untilSettled(() => createImportJobsHandler(event()));
    state.results.importJobs = imports.slice;
    const predictors = await untilSettled(() => createPredictorsHandler(event()));
    state.results.predictors = predictors.slice;
    const forecasts = await untilSettled(() => createForecastsHandler(event()));
    state.results.forecasts = forecasts.slice;

    // Assess: job steps wait at least once (ResourcePending), then return complete slices.
    expect(predictors.pending).toBeGreaterThanOrEqual(1);
    expect(forecasts.pending).toBeGreaterThanOrEqual(1);
    const docs = await fx.engine.listAll();
    const arnOf = (type: string, name: string) => docs.find((d) => d.type === type && d.name === name)?.arn;
    expect(datasets.slice).toEqual([{ kind: 'TARGET', name: 'demo_TARGET', arn: arnOf('dataset', 'demo_TARGET') }]);
    expect(group.slice).toEqual({ name: 'demo_group', arn: arnOf('dataset-group', 'demo_group') });
    expect(imports.slice).toEqual([
      { datasetName: 'demo_TARGET', name: 'demo_TARGET_20240301', arn: arnOf('dataset-import-job', 'demo_TARGET_20240301') },
    ]);
    expect(predictors.slice.map((p) => [p.name, p.model, p.status, p.arn])).toEqual([
      ['demo_ETS_2', 'ETS', 'ACTIVE', arnOf('predictor', 'demo_ETS_2')],
      ['demo_NPTS_2', 'NPTS', 'ACTIVE', arnOf('predictor', 'demo_NPTS_2')],
    ]);
    for (const p of predictors.slice) {
      expect(p.metrics?.wape).toBeGreaterThan(0);
      expect(p.metrics?.averageWeightedQuantileLoss).toBeGreaterThan(0);
      expect(Object.keys(p.metrics?.weightedQuantileLosses ?? {}).sort()).toEqual(['0.5', '0.9']);
    }
    expect(forecasts.slice.map((f) => [f.name, f.status, f.arn, f.exportJobArn])).toEqual([
      ['demo_ETS_2_forecast', 'ACTIVE', arnOf('forecast', 'demo_ETS_2_forecast'), arnOf('forecast-export-job', 'demo_ETS_2_export')],
      ['demo_NPTS_2_forecast', 'ACTIVE', arnOf('forecast', 'demo_NPTS_2_forecast'), arnOf('forecast-export-job', 'demo_NPTS_2_export')],
    ]);
    expect(docs.every((d) => d.arn.startsWith('arn:aws:forecast:'))).toBe(true);
  });

  it('exports each forecast into its own folder: 3 items × 7 days with the requested quantiles', async () => {
    // Act
    const listings = await Promise.all(state.results.forecasts!.map((f) => fx.store.list(f.exportS3Uri)));
    // Assess
    for (const [i, files] of listings.entries()) {
      const forecastName = state.results.forecasts![i]!.name;
      expect(files.every((f) => f.uri.includes(`/exports/${forecastName}/`))).toBe(true);
      const parts = files.filter((f) => f.uri.endsWith('.csv'));
      expect(parts.length).toBeGreaterThanOrEqual(1);
      const lines = (await Promise.all(parts.map(async (p) => (await fx.store.get(p.uri)).toString('utf8').trim().split('\n')))).flat();
      expect(lines[0]).toBe('item_id,date,p50,p90');
      expect(lines.filter((l) => !l.startsWith('item_id'))).toHaveLength(ITEMS.length * HORIZON);
    }
  });

  it('creates nothing twice: every create step called again, with the same state and with a redelivered one, returns the same slices', async () => {
    // Prepare
    const before = (await fx.engine.listAll()).map((d) => d.arn).sort();
    const forecast = fx.engine;
    // Act: the same state again (a retried Task) …
    const again = {
      datasets: await createDatasets(state, { forecast }),
      datasetGroup: await createDatasetGroup(state, { forecast }),
      importJobs: await createImportJobs(state, { forecast, settings }),
      predictors: await createPredictors(state, { forecast, publishMetrics }),
      forecasts: await createForecasts(state, { forecast, settings }),
    };
    // … and each step with a fresh state holding only what that step reads (a redelivered message).
    const redelivered = {
      datasets: await createDatasets(freshState(state, []), { forecast }),
      datasetGroup: await createDatasetGroup(freshState(state, ['datasets']), { forecast }),
      importJobs: await createImportJobs(freshState(state, ['datasets']), { forecast, settings }),
      predictors: await createPredictors(freshState(state, ['datasetGroup']), { forecast, publishMetrics }),
      forecasts: await createForecasts(freshState(state, ['predictors']), { forecast, settings }),
    };
    // Assess
    const expected = {
      datasets: state.results.datasets,
      datasetGroup: state.results.datasetGroup,
      importJobs: state.results.importJobs,
      predictors: state.results.predictors,
      forecasts: state.results.forecasts,
    };
    expect(again).toEqual(expected);
    expect(redelivered).toEqual(expected);
    expect((await fx.engine.listAll()).map((d) => d.arn).sort()).toEqual(before);
  });

  it('deletes forecasts, predictors, then datasets and group; run again (ARNs in the state now not found, or no slices at all) it is a no-op', async () => {
    // Act
    const forecasts = await untilSettled(() => deleteForecastsHandler(event()));
    const predictors = await untilSettled(() => deletePredictorsHandler(event()));
    const datasets = await untilSettled(() => deleteDatasetsHandler(event()));
    const leftAfterFirst = await fx.engine.listAll();
    const second = [
      await deleteForecastsHandler(event()),
      await deletePredictorsHandler(event()),
      await deleteDatasetsHandler(event()),
    ];
    const withoutSlices = JSON.parse(JSON.stringify(conformanceState())) as unknown;
    const third = [
      await deleteForecastsHandler(withoutSlices),
      await deletePredictorsHandler(withoutSlices),
      await deleteDatasetsHandler(withoutSlices),
    ];
    // Assess
    expect(forecasts.pending + predictors.pending + datasets.pending).toBeGreaterThanOrEqual(1);
    expect(leftAfterFirst).toEqual([]);
    expect(datasets.slice.deleted).toEqual(['demo_TARGET', 'demo_group']);
    expect(second).toEqual([forecasts.slice, predictors.slice, datasets.slice]);
    expect(third).toEqual([forecasts.slice, predictors.slice, datasets.slice]);
    expect(await fx.engine.listAll()).toEqual([]);
  });
});

describe.each(BACKENDS)('Model steps on $name: the same assertions for both backends', ({ open }) => {
  let backend: Backend | undefined;
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
  });

  it('throws ResourceFailed carrying the service message when every predictor fails', async () => {
    // Prepare
    const message = 'Injected: the training diverged';
    backend = await open([{ resource: 'predictor', match: 'demo_', status: 'CREATE_FAILED', message }]);
    const { forecast, state } = backend;
    // Act
    const error = await untilSettled(() => createPredictors(state, { forecast, publishMetrics })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourceFailed);
    expect((error as Error).message).toContain('every model failed');
    expect((error as Error).message).toContain(`demo_ETS_2 is CREATE_FAILED: ${message}`);
    expect((error as Error).message).toContain(`demo_NPTS_2 is CREATE_FAILED: ${message}`);
  });

  it('marks the failed model failed with its message and delivers the other (partial failure)', async () => {
    // Prepare
    const message = 'Injected: NPTS broke';
    backend = await open([{ resource: 'predictor', match: 'NPTS', status: 'CREATE_FAILED', message }]);
    const { forecast, state } = backend;
    // Act
    const predictors = await untilSettled(() => createPredictors(state, { forecast, publishMetrics }));
    state.results.predictors = predictors.slice;
    const forecasts = await untilSettled(() => createForecasts(state, { forecast, settings }));
    // Assess
    expect(predictors.pending).toBeGreaterThanOrEqual(1);
    const [ets, npts] = predictors.slice;
    expect(ets).toMatchObject({ name: 'demo_ETS_2', status: 'ACTIVE', arn: expect.stringMatching(/:predictor\/demo_ETS_2$/) });
    expect(ets!.metrics?.wape).toBeGreaterThan(0);
    expect(npts).toMatchObject({ name: 'demo_NPTS_2', status: 'CREATE_FAILED', message: `demo_NPTS_2 is CREATE_FAILED: ${message}` });
    expect(npts!.metrics).toBeUndefined();
    expect(forecasts.slice).toEqual([
      expect.objectContaining({
        name: 'demo_ETS_2_forecast',
        status: 'ACTIVE',
        arn: expect.stringMatching(/:forecast\/demo_ETS_2_forecast$/),
        exportJobArn: expect.stringMatching(/:forecast-export-job\/demo_ETS_2_forecast\/demo_ETS_2_export$/),
      }),
    ]);
  });

  it('marks a model whose export job failed failed, with the export\'s message, and delivers the other', async () => {
    // Prepare
    const message = 'Injected: the export bucket refused the write';
    backend = await open([{ resource: 'forecastExportJob', match: 'NPTS', status: 'CREATE_FAILED', message }]);
    const { forecast, state } = backend;
    state.results.predictors = (await untilSettled(() => createPredictors(state, { forecast, publishMetrics }))).slice;
    // Act
    const forecasts = await untilSettled(() => createForecasts(state, { forecast, settings }));
    // Assess
    expect(forecasts.pending).toBeGreaterThanOrEqual(1);
    expect(forecasts.slice.map((f) => [f.name, f.status, f.message])).toEqual([
      ['demo_ETS_2_forecast', 'ACTIVE', undefined],
      ['demo_NPTS_2_forecast', 'CREATE_FAILED', `demo_NPTS_2_export is CREATE_FAILED: ${message}`],
    ]);
    expect(forecasts.slice[1]!.exportJobArn).toMatch(/:forecast-export-job\/demo_NPTS_2_forecast\/demo_NPTS_2_export$/);
  });

  it.each(['LimitExceededException', 'ThrottlingException'] as const)(
    '%s on CreatePredictor surfaces under the name the ASL retries; the retry creates each predictor once',
    async (error) => {
      // Prepare: both predictors' first create call is refused.
      backend = await open([{ operation: 'CreatePredictor', error, times: 2 }]);
      const { forecast, state } = backend;
      // Act
      const refused = await createPredictors(state, { forecast, publishMetrics }).catch((e: unknown) => e);
      const retried = await untilSettled(() => createPredictors(state, { forecast, publishMetrics }));
      const again = await createPredictors(state, { forecast, publishMetrics });
      // Assess
      expect(refused).toMatchObject({ name: error });
      expect(aslRetriedErrors('Create-Predictors')).toContain(error);
      expect(retried.slice.map((p) => [p.name, p.status])).toEqual([
        ['demo_ETS_2', 'ACTIVE'],
        ['demo_NPTS_2', 'ACTIVE'],
      ]);
      expect(again.map((p) => p.arn)).toEqual(retried.slice.map((p) => p.arn));
      const listed = await forecast.send(new ListPredictorsCommand({}));
      expect(listed.Predictors?.map((p) => p.PredictorName).sort()).toEqual(['demo_ETS_2', 'demo_NPTS_2']);
    },
  );
});

describe("Steps on the built-in engine: the engine's own failures and quota", () => {
  let fx: EngineFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it('throws ResourceFailed carrying the engine\'s Message (object and line) when the import meets a bad row', async () => {
    // Prepare: the second item's 10th value is not a number.
    fx = await openEngine();
    const target = conformanceState().datasets[0]!;
    const rows = dailyCsv(ITEMS, DAYS).split('\n');
    rows[DAYS + 9] = rows[DAYS + 9]!.replace(/,[^,]*$/, ',not-a-number');
    await fx.store.put(target.s3Uri, rows.join('\n'));
    const forecast = fx.engine;
    const state = conformanceState();
    state.results.datasets = (await untilSettled(() => createDatasets(state, { forecast }))).slice;
    // Act
    const error = await untilSettled(() => createImportJobs(state, { forecast, settings })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResourceFailed);
    expect((error as Error).message).toContain(`demo_TARGET_20240301 is CREATE_FAILED: `);
    expect((error as Error).message).toContain(`${target.s3Uri} line ${DAYS + 10}`);
  });

  it('fails every predictor the data cannot backtest (ResourceFailed with the engine\'s Message); the cleanup steps then leave nothing', async () => {
    // Prepare: an offset of 40 days needs more than 80 days of data; there are 60.
    fx = await openEngine();
    const forecast = fx.engine;
    const state = await importedState(forecast);
    state.predictors = state.predictors.map((p) => ({ ...p, backtestWindowOffset: 40 }));
    // Act
    const error = await untilSettled(() => createPredictors(state, { forecast, publishMetrics })).catch((e: unknown) => e);
    const cleanup = [
      await untilSettled(() => deleteForecasts(state, { forecast })),
      await untilSettled(() => deletePredictors(state, { forecast })),
      await untilSettled(() => deleteDatasets(state, { forecast })),
    ];
    // Assess
    expect(error).toBeInstanceOf(ResourceFailed);
    expect((error as Error).message).toMatch(/demo_ETS_2 is CREATE_FAILED: .*BackTestWindowOffset must satisfy .*got 40/);
    expect((error as Error).message).toMatch(/demo_NPTS_2 is CREATE_FAILED: .*BackTestWindowOffset/);
    expect(cleanup[1]!.pending).toBeGreaterThanOrEqual(1);
    expect(await fx.engine.listAll()).toEqual([]);
  });

  it('waits (ResourcePending) for a 4th predictor refused with LimitExceededException while 3 train, then creates it', async () => {
    // Prepare: four models in one run; the engine (like Forecast) runs at most 3 predictor jobs at once.
    fx = await openEngine();
    const forecast = fx.engine;
    const state = await importedState(forecast);
    const [ets, npts] = state.predictors;
    state.predictors = [ets!, npts!, { ...ets!, name: 'demo_ETS_3' }, { ...npts!, name: 'demo_NPTS_3' }];
    // Act
    const predictors = await untilSettled(() => createPredictors(state, { forecast, publishMetrics }));
    // Assess
    expect(predictors.reasons.some((r) => r.includes('waiting for quota'))).toBe(true);
    expect(predictors.slice.map((p) => [p.name, p.status])).toEqual([
      ['demo_ETS_2', 'ACTIVE'],
      ['demo_NPTS_2', 'ACTIVE'],
      ['demo_ETS_3', 'ACTIVE'],
      ['demo_NPTS_3', 'ACTIVE'],
    ]);
    expect((await fx.engine.listAll()).filter((d) => d.type === 'predictor')).toHaveLength(4);
  });
});

describe("Steps on the built-in engine: the seed's global models", () => {
  let fx: EngineFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it('trains CNN-QR (with HPO, named _hpo as the seed names it) and DeepAR+, forecasts and exports them', async () => {
    // Prepare: tiny networks (one epoch); the product's defaults are in docs/models.md.
    fx = await openEngine();
    const forecast = fx.engine;
    const state = await importedState(forecast, [
      ['demo_CNNQR_1_hpo', 'CNNQR', 'CNN-QR', { performHPO: true, trainingParameters: { epochs: '1', context_length: '7' } }],
      ['demo_DEEPARP_1', 'DEEPARP', 'Deep_AR_Plus', { trainingParameters: { epochs: '1', num_cells: '30' } }],
    ]);

    // Act
    const predictors = await untilSettled(() => createPredictors(state, { forecast, publishMetrics }), 60_000);
    state.results.predictors = predictors.slice;
    const forecasts = await untilSettled(() => createForecasts(state, { forecast, settings }), 60_000);

    // Assess
    expect(predictors.slice.map((p) => [p.name, p.model, p.status])).toEqual([
      ['demo_CNNQR_1_hpo', 'CNNQR', 'ACTIVE'],
      ['demo_DEEPARP_1', 'DEEPARP', 'ACTIVE'],
    ]);
    for (const p of predictors.slice) expect(p.metrics?.averageWeightedQuantileLoss).toBeGreaterThan(0);
    const described = await forecast.send(new DescribePredictorCommand({ PredictorArn: predictors.slice[0]!.arn }));
    expect(described).toMatchObject({ AlgorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR', PerformHPO: true });
    expect(forecasts.slice.map((f) => [f.name, f.status])).toEqual([
      ['demo_CNNQR_1_hpo_forecast', 'ACTIVE'],
      ['demo_DEEPARP_1_forecast', 'ACTIVE'],
    ]);
    const rows = (await Promise.all(forecasts.slice.map(async (f) => (await fx!.store.list(f.exportS3Uri)).length)));
    expect(rows.every((count) => count > 0)).toBe(true);
  });
});
