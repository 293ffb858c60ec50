/**
 * The work of each asynchronous job: import, predictor training, forecast, forecast export.
 * Each returns the `result` stored on the resource document; a thrown error becomes CREATE_FAILED
 * with the error's message.
 */
import { InvalidInput } from '../shared/errors';
import { parseFrequency, type Frequency } from '../shared/frequency';
import type { ObjectStore } from '../shared/ports';
import { importCsv, type SchemaAttribute } from './csv-import';
import { deserializePredictions, serializePredictions, writeExportFiles } from './export-files';
import type { FaultInjector, FaultResource } from './faults';
import { parseArn, type Repository, type ResourceDoc, type ResourceType } from './repository';
import {
  buildSeries,
  deserializeImported,
  deserializeSeriesSet,
  mergeImported,
  relatedFilling,
  serializeImported,
  serializeSeriesSet,
  targetFilling,
  type ImportedData,
  type RelatedFilling,
  type SeriesSet,
  type TargetFilling,
} from './series';
import { forecastSeriesSet, runBacktests, type BacktestPlan, type Selection, type TrainingResult } from './training';
import { DEFAULT_FORECAST_TYPES } from './validation';
import type { AnyFitTask, SeriesForecast } from './worker-protocol';

/** Where a job's fit batches go: the worker-thread pool, or a fan-out executor's recorder/replayer. */
export interface FitPool {
  run(task: AnyFitTask): Promise<SeriesForecast[]>;
  /** Parallel fits: sets the batch size (so the same size gives the same batches). */
  readonly size: number;
}

export interface JobContext {
  readonly store: ObjectStore;
  readonly repo: Repository;
  readonly pool: FitPool;
  readonly exportPartRows: number;
  progress(done: number, total: number): void;
}

type Json = Record<string, unknown>;
const idOf = (doc: ResourceDoc) => parseArn(doc.arn)!.id;

export async function runImportJob(ctx: JobContext, doc: ResourceDoc): Promise<Json> {
  const request = doc.request as { DatasetArn: string; DataSource: { S3Config: { Path: string } }; TimestampFormat?: string };
  const dataset = await ctx.repo.get(request.DatasetArn);
  if (!dataset) throw new InvalidInput(`Dataset ${request.DatasetArn} no longer exists`);
  const schema = (dataset.request as { Schema: { Attributes: SchemaAttribute[] } }).Schema.Attributes;
  const data = await importCsv(ctx.store, request.DataSource.S3Config.Path, schema, request.TimestampFormat ?? 'yyyy-MM-dd HH:mm:ss');
  if (data.rowCount === 0) throw new InvalidInput(`No rows found at ${request.DataSource.S3Config.Path}`);
  const bytes = serializeImported(data);
  const dataUri = ctx.repo.dataUri('dataset-import-job', idOf(doc), 'data.bin');
  await ctx.store.put(dataUri, bytes);
  return { dataUri, rowCount: data.rowCount, itemCount: data.items.length, dataSize: bytes.length / 1e9 };
}

async function datasetData(ctx: Pick<JobContext, 'store' | 'repo'>, dataset: ResourceDoc): Promise<{ data: ImportedData; jobArns: string[] }> {
  const jobs = (await ctx.repo.list('dataset-import-job')).filter((j) => j.parentArn === dataset.arn && j.status === 'ACTIVE');
  let from = -1;
  jobs.forEach((j, i) => {
    if ((j.request as { ImportMode?: string }).ImportMode !== 'INCREMENTAL') from = i;
  });
  const used = jobs.slice(Math.max(0, from));
  if (!used.length) throw new InvalidInput(`Dataset ${dataset.name} has no ACTIVE dataset import job`);
  const parts = await Promise.all(used.map(async (j) => deserializeImported(await ctx.store.get(String(j.result!.dataUri)))));
  return { data: mergeImported(parts), jobArns: used.map((j) => j.arn) };
}

const APPROX_MS: Record<string, number> = { min: 6e4, H: 3.6e6, D: 8.64e7, W: 6.048e8, M: 2.6298e9, Y: 3.15576e10 };
const durationOf = (f: Frequency) => APPROX_MS[f.unit]! * f.count;

interface PredictorPlan {
  readonly groupArn: string;
  readonly frequency: Frequency;
  readonly horizon: number;
  readonly types: string[];
  readonly dimensions: string[];
  readonly filling: TargetFilling;
  readonly relatedFilling: Record<string, RelatedFilling>;
  readonly windows: number;
  readonly offset: number;
  readonly candidates: string[];
  readonly params: Record<string, string>;
  readonly selection: Selection;
  /** PerformHPO of a legacy predictor (CNN-QR and DeepAR+ only; CreatePredictor checks it). */
  readonly hpo: boolean;
}

/** What a predictor document asks for, legacy (CreatePredictor) or auto (CreateAutoPredictor). */
export function predictorPlan(doc: ResourceDoc): PredictorPlan {
  const r = doc.request as Json;
  const plan = (r.plan ?? {}) as { candidates: string[]; selection: Selection };
  if (r.kind === 'auto') {
    const dataConfig = r.DataConfig as { DatasetGroupArn: string; AttributeConfigs?: { AttributeName: string; Transformations: Record<string, string> }[] };
    const configs = dataConfig.AttributeConfigs ?? [];
    const target = configs.find((c) => c.AttributeName === 'target_value');
    const horizon = r.ForecastHorizon as number;
    return {
      groupArn: dataConfig.DatasetGroupArn,
      frequency: parseFrequency(r.ForecastFrequency as string),
      horizon,
      types: (r.ForecastTypes as string[] | undefined) ?? [...DEFAULT_FORECAST_TYPES],
      dimensions: (r.ForecastDimensions as string[] | undefined) ?? [],
      filling: targetFilling(target?.Transformations),
      relatedFilling: Object.fromEntries(configs.filter((c) => c !== target).map((c) => [c.AttributeName, relatedFilling(c.Transformations, c.AttributeName)])),
      windows: 1,
      offset: horizon,
      candidates: plan.candidates,
      params: {},
      selection: plan.selection,
      hpo: false,
    };
  }
  const featurization = r.FeaturizationConfig as {
    ForecastFrequency: string;
    ForecastDimensions?: string[];
    Featurizations?: { AttributeName: string; FeaturizationPipeline?: { FeaturizationMethodParameters?: Record<string, string> }[] }[];
  };
  const parametersOf = (name: string) =>
    featurization.Featurizations?.find((f) => f.AttributeName === name)?.FeaturizationPipeline?.[0]?.FeaturizationMethodParameters;
  const horizon = r.ForecastHorizon as number;
  const evaluation = (r.EvaluationParameters ?? {}) as { NumberOfBacktestWindows?: number; BackTestWindowOffset?: number };
  return {
    groupArn: (r.InputDataConfig as { DatasetGroupArn: string }).DatasetGroupArn,
    frequency: parseFrequency(featurization.ForecastFrequency),
    horizon,
    types: (r.ForecastTypes as string[] | undefined) ?? [...DEFAULT_FORECAST_TYPES],
    dimensions: featurization.ForecastDimensions ?? [],
    filling: targetFilling(parametersOf('target_value')),
    relatedFilling: Object.fromEntries(
      (featurization.Featurizations ?? [])
        .filter((f) => f.AttributeName !== 'target_value')
        .map((f) => [f.AttributeName, relatedFilling(f.FeaturizationPipeline?.[0]?.FeaturizationMethodParameters, f.AttributeName)]),
    ),
    windows: evaluation.NumberOfBacktestWindows ?? 1,
    offset: evaluation.BackTestWindowOffset ?? horizon,
    candidates: plan.candidates,
    params: (r.TrainingParameters as Record<string, string> | undefined) ?? {},
    selection: plan.selection,
    hpo: r.PerformHPO === true,
  };
}

/** What a predictor job trains on: its plan, the series set and the import jobs it came from (validated). */
export interface PredictorInputs {
  readonly plan: PredictorPlan;
  readonly set: SeriesSet;
  readonly jobArns: string[];
  readonly backtest: BacktestPlan;
}

export async function predictorInputs(ctx: Pick<JobContext, 'store' | 'repo'>, doc: ResourceDoc): Promise<PredictorInputs> {
  const plan = predictorPlan(doc);
  const group = await ctx.repo.get(plan.groupArn);
  if (!group) throw new InvalidInput(`Dataset group ${plan.groupArn} no longer exists`);
  const datasets = await Promise.all(((group.request.DatasetArns as string[] | undefined) ?? []).map((arn) => ctx.repo.get(arn)));
  const typeOf = (d: ResourceDoc | undefined) => (d?.request as { DatasetType?: string } | undefined)?.DatasetType;
  const tts = datasets.find((d) => typeOf(d) === 'TARGET_TIME_SERIES');
  if (!tts) throw new InvalidInput(`Dataset group ${group.name} has no TARGET_TIME_SERIES dataset`);
  const rts = datasets.find((d) => typeOf(d) === 'RELATED_TIME_SERIES');
  const dataFrequency = parseFrequency((tts.request as { DataFrequency: string }).DataFrequency);
  if (durationOf(dataFrequency) > durationOf(plan.frequency)) {
    throw new InvalidInput(`The forecast frequency ${plan.frequency.text} is finer than the data frequency ${dataFrequency.text} of ${tts.name}`);
  }
  // The imported rows are only needed to build the series: read them in a scope of their own so
  // they can be collected before training.
  const { set, jobArns } = await (async () => {
    const target = await datasetData(ctx, tts);
    const related = rts ? await datasetData(ctx, rts) : undefined;
    const built = buildSeries({
      target: target.data,
      related: related?.data,
      frequency: plan.frequency,
      dimensions: plan.dimensions,
      filling: plan.filling,
      relatedFilling: plan.relatedFilling,
      horizon: plan.horizon,
    });
    return { set: built, jobArns: [...target.jobArns, ...(related?.jobArns ?? [])] };
  })();
  const maxHorizon = plan.selection === 'automl' ? Math.min(500, Math.floor(set.length / 3)) : Math.min(500, set.length - 1);
  if (plan.horizon > maxHorizon) {
    throw new InvalidInput(
      `ForecastHorizon ${plan.horizon} is too long for ${set.length} periods of data (at most ${maxHorizon}` +
        `${plan.selection === 'automl' ? ': ⅓ of the length for AutoML' : ''})`,
    );
  }
  const backtest: BacktestPlan = { horizon: plan.horizon, windows: plan.windows, offset: plan.offset, types: plan.types, candidates: plan.candidates, params: plan.params, selection: plan.selection, hpo: plan.hpo };
  return { plan, set, jobArns, backtest };
}

/** Where a predictor job stores its series set (what its forecasts read). */
export const predictorSeriesUri = (ctx: Pick<JobContext, 'repo'>, doc: ResourceDoc) => ctx.repo.dataUri('predictor', idOf(doc), 'series.bin');

/** What the series set of a predictor result says about it (the set itself need not be at hand). */
export interface SeriesSetSummary {
  readonly seriesCount: number;
  readonly length: number;
}

/** The predictor document's result and Message, from its training. */
export function predictorOutcome(
  inputs: { plan: Pick<PredictorPlan, 'dimensions'>; jobArns: string[] },
  set: SeriesSetSummary,
  seriesUri: string,
  training: TrainingResult,
): { result: Json; message?: string } {
  const message = training.fallbacks
    ? `${training.fallbacks} of ${set.seriesCount} series fell back to a simpler model (e.g. ${training.fallbackExamples.join('; ')})`
    : undefined;
  return {
    result: {
      seriesUri,
      keyColumns: ['item_id', ...inputs.plan.dimensions],
      assignments: training.assignments,
      algorithm: training.algorithm,
      evaluations: training.evaluations,
      fallbacks: training.fallbacks,
      ...(training.trainingParameters && { trainingParameters: training.trainingParameters }),
      datasetImportJobArns: inputs.jobArns,
      itemCount: set.seriesCount,
      length: set.length,
    },
    message,
  };
}

export async function runPredictorJob(ctx: JobContext, doc: ResourceDoc): Promise<{ result: Json; message?: string }> {
  const inputs = await predictorInputs(ctx, doc);
  const { set } = inputs;
  const training: TrainingResult = await runBacktests(set, inputs.backtest, (task) => ctx.pool.run(task), ctx.pool.size, (done, total) => ctx.progress(done, total));
  const seriesUri = predictorSeriesUri(ctx, doc);
  await ctx.store.put(seriesUri, serializeSeriesSet(set));
  return predictorOutcome(inputs, { seriesCount: set.series.length, length: set.length }, seriesUri, training);
}

/** What a forecast job forecasts: the predictor's series set, each series' algorithm and the settings. */
export interface ForecastInputs {
  readonly set: SeriesSet;
  readonly assignments: string[];
  readonly params: Readonly<Record<string, string>>;
  readonly horizon: number;
  readonly types: string[];
  readonly keyColumns: string[];
  /** PerformHPO without a choice stored on the predictor: the forecast searches. */
  readonly hpo: boolean;
}

export async function forecastInputs(ctx: Pick<JobContext, 'store' | 'repo'>, doc: ResourceDoc): Promise<ForecastInputs> {
  const request = doc.request as { PredictorArn: string; ForecastTypes?: string[] };
  const predictor = await ctx.repo.get(request.PredictorArn);
  if (!predictor?.result) throw new InvalidInput(`Predictor ${request.PredictorArn} is not ACTIVE`);
  const plan = predictorPlan(predictor);
  const set = deserializeSeriesSet(await ctx.store.get(String(predictor.result.seriesUri)), parseFrequency);
  // PerformHPO chose its settings while training the predictor: forecast with them, no new search.
  const tuned = predictor.result.trainingParameters as Record<string, string> | undefined;
  return {
    set,
    assignments: predictor.result.assignments as string[],
    params: tuned ?? plan.params,
    horizon: plan.horizon,
    types: request.ForecastTypes ?? [...DEFAULT_FORECAST_TYPES],
    keyColumns: predictor.result.keyColumns as string[],
    hpo: plan.hpo && !tuned,
  };
}

/** Where a forecast job stores its predictions (what its exports read). */
export const forecastPredictionsUri = (ctx: Pick<JobContext, 'repo'>, doc: ResourceDoc) => ctx.repo.dataUri('forecast', idOf(doc), 'predictions.bin');

export async function runForecastJob(ctx: JobContext, doc: ResourceDoc): Promise<Json> {
  const f = await forecastInputs(ctx, doc);
  const { predictions, fallbacks } = await forecastSeriesSet(
    f.set,
    f.assignments,
    f.params,
    f.horizon,
    f.types,
    f.keyColumns,
    (task) => ctx.pool.run(task),
    ctx.pool.size,
    (done, total) => ctx.progress(done, total),
    f.hpo,
  );
  const predictionsUri = forecastPredictionsUri(ctx, doc);
  await ctx.store.put(predictionsUri, serializePredictions(predictions));
  return { predictionsUri, itemCount: predictions.items.length, fallbacks };
}

export async function runExportJob(ctx: JobContext, doc: ResourceDoc): Promise<Json> {
  const request = doc.request as { ForecastArn: string; ForecastExportJobName: string; Destination: { S3Config: { Path: string } } };
  const forecast = await ctx.repo.get(request.ForecastArn);
  if (!forecast?.result) throw new InvalidInput(`Forecast ${request.ForecastArn} is not ACTIVE`);
  const predictions = deserializePredictions(await ctx.store.get(String(forecast.result.predictionsUri)), parseFrequency);
  ctx.progress(0, predictions.items.length);
  const parts = await writeExportFiles(
    ctx.store,
    request.Destination.S3Config.Path,
    request.ForecastExportJobName,
    new Date(doc.creationTime),
    predictions,
    ctx.exportPartRows,
  );
  ctx.progress(predictions.items.length, predictions.items.length);
  return { parts };
}

const FAULT_RESOURCE: Partial<Record<ResourceType, FaultResource>> = {
  'dataset-import-job': 'datasetImportJob',
  predictor: 'predictor',
  forecast: 'forecast',
  'forecast-export-job': 'forecastExportJob',
};

/** Throws the failure FORECAST_FAULTS injects into this job, if a rule names it. */
export function throwInjectedFailure(doc: ResourceDoc, faults: FaultInjector): void {
  const faultType = FAULT_RESOURCE[doc.type];
  const injected = faultType ? faults.resourceFailure(faultType, doc.name) : undefined;
  if (injected) throw new Error(injected);
}

/** The work of any job document (after its injected fault, if FORECAST_FAULTS names one). */
export async function runJobWork(ctx: JobContext, doc: ResourceDoc, faults: FaultInjector): Promise<{ result?: Json; message?: string }> {
  throwInjectedFailure(doc, faults);
  switch (doc.type) {
    case 'dataset':
    case 'dataset-group':
      return {}; // never jobs (ACTIVE at creation); kept for an exhaustive switch
    case 'dataset-import-job':
      return { result: await runImportJob(ctx, doc) };
    case 'predictor':
      return runPredictorJob(ctx, doc);
    case 'forecast':
      return { result: await runForecastJob(ctx, doc) };
    case 'forecast-export-job':
      return { result: await runExportJob(ctx, doc) };
  }
}
