/**
 * The work of each asynchronous job: import, predictor training, forecast, forecast export.
 * Each returns the `result` stored on the resource document; a thrown error becomes CREATE_FAILED
 * with the error's message.
 */
import { InvalidInput } from '../shared/errors';
import { parseFrequency, type Frequency } from '../shared/frequency';
import type { ObjectStore } from '../shared/ports';
import { importColumns, importObjects, streamCsvRows, type SchemaAttribute } from './csv-import';
import { deserializePredictions, serializePredictions, writeExportFiles, type Predictions } from './export-files';
import type { FaultInjector, FaultResource } from './faults';
import { parseArn, type Repository, type ResourceDoc, type ResourceType } from './repository';
import { datasetExtent, importManifest, partitionCount, PartitionWriter, readUnit, unitCount, type ImportManifest } from './partitions';
import {
  buildSeries,
  datasetPeriods,
  deserializeSeriesSet,
  relatedFilling,
  serializeSeriesSet,
  targetFilling,
  type RelatedFilling,
  type SeriesSet,
  type TargetExtent,
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
  /** CSV bytes per item partition of an import (partitions.ts PARTITION_CSV_BYTES; tests set it small). */
  readonly partitionBytes?: number;
  progress(done: number, total: number): void;
}

type Json = Record<string, unknown>;
const idOf = (doc: ResourceDoc) => parseArn(doc.arn)!.id;

/**
 * Streams the import's CSV into item partitions (partitions.ts): memory bounded by the row buffer
 * and one partition, whatever the number of items.
 */
export async function runImportJob(ctx: JobContext, doc: ResourceDoc): Promise<Json> {
  const request = doc.request as { DatasetArn: string; DataSource: { S3Config: { Path: string } }; TimestampFormat?: string };
  const dataset = await ctx.repo.get(request.DatasetArn);
  if (!dataset) throw new InvalidInput(`Dataset ${request.DatasetArn} no longer exists`);
  const schema = (dataset.request as { Schema: { Attributes: SchemaAttribute[] } }).Schema.Attributes;
  const path = request.DataSource.S3Config.Path;
  const inputBytes = (await importObjects(ctx.store, path)).reduce((n, o) => n + o.size, 0);
  const folder = ctx.repo.dataUri('dataset-import-job', idOf(doc), 'partitions');
  const writer = new PartitionWriter(ctx.store, folder, importColumns(schema), partitionCount(inputBytes, ctx.partitionBytes));
  const rowCount = await streamCsvRows(ctx.store, path, schema, request.TimestampFormat ?? 'yyyy-MM-dd HH:mm:ss', writer);
  if (rowCount === 0) throw new InvalidInput(`No rows found at ${path}`);
  const { manifest, manifestUri, bytes } = await writer.finish();
  return { manifestUri, partitions: manifest.partitions.length, rowCount, itemCount: manifest.itemCount, dataSize: bytes / 1e9 };
}

/** The imports a dataset's series come from: the last FULL import and the INCREMENTAL ones after it. */
async function datasetImports(ctx: Pick<JobContext, 'store' | 'repo'>, dataset: ResourceDoc): Promise<{ manifests: ImportManifest[]; jobArns: string[] }> {
  const jobs = (await ctx.repo.list('dataset-import-job')).filter((j) => j.parentArn === dataset.arn && j.status === 'ACTIVE');
  let from = -1;
  jobs.forEach((j, i) => {
    if ((j.request as { ImportMode?: string }).ImportMode !== 'INCREMENTAL') from = i;
  });
  const used = jobs.slice(Math.max(0, from));
  if (!used.length) throw new InvalidInput(`Dataset ${dataset.name} has no ACTIVE dataset import job`);
  const manifests = await Promise.all(used.map((j) => importManifest(ctx.store, j.result!)));
  return { manifests, jobArns: used.map((j) => j.arn) };
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

/**
 * What a predictor job trains on: its plan, the import jobs it came from and its series, unit by
 * unit (partitions.ts: an item's target and related rows always in one unit; units in order, each
 * unit's series sorted by key). Validated but not read: `unitSeries` builds a unit's series.
 */
export interface PredictorSource {
  readonly plan: PredictorPlan;
  readonly jobArns: string[];
  readonly backtest: BacktestPlan;
  /** Periods from the earliest series start to the dataset end (every unit's SeriesSet.length). */
  readonly length: number;
  readonly units: number;
  unitSeries(unit: number): Promise<SeriesSet>;
}

export async function predictorSource(ctx: Pick<JobContext, 'store' | 'repo'>, doc: ResourceDoc): Promise<PredictorSource> {
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
  const target = await datasetImports(ctx, tts);
  const related = rts ? await datasetImports(ctx, rts) : undefined;
  const extent: TargetExtent = await datasetExtent(ctx.store, target.manifests, plan.frequency);
  if (!Number.isFinite(extent.latest)) throw new InvalidInput('The target time series dataset holds no rows');
  const { length } = datasetPeriods(extent, plan.frequency);
  const maxHorizon = plan.selection === 'automl' ? Math.min(500, Math.floor(length / 3)) : Math.min(500, length - 1);
  if (plan.horizon > maxHorizon) {
    throw new InvalidInput(
      `ForecastHorizon ${plan.horizon} is too long for ${length} periods of data (at most ${maxHorizon}` +
        `${plan.selection === 'automl' ? ': ⅓ of the length for AutoML' : ''})`,
    );
  }
  const units = unitCount([...target.manifests, ...(related?.manifests ?? [])]);
  const backtest: BacktestPlan = { horizon: plan.horizon, windows: plan.windows, offset: plan.offset, types: plan.types, candidates: plan.candidates, params: plan.params, selection: plan.selection, hpo: plan.hpo };
  return {
    plan,
    jobArns: [...target.jobArns, ...(related?.jobArns ?? [])],
    backtest,
    length,
    units,
    // The unit's rows are only needed to build its series: they can be collected before training.
    unitSeries: async (unit) =>
      buildSeries({
        target: await readUnit(ctx.store, target.manifests, unit, units),
        related: related && (await readUnit(ctx.store, related.manifests, unit, units)),
        frequency: plan.frequency,
        dimensions: plan.dimensions,
        filling: plan.filling,
        relatedFilling: plan.relatedFilling,
        horizon: plan.horizon,
        extent,
      }),
  };
}

/** Where a predictor job stores the series of one unit (what its forecasts read). */
export const predictorSeriesUri = (ctx: Pick<JobContext, 'repo'>, doc: ResourceDoc, unit: number) => ctx.repo.dataUri('predictor', idOf(doc), `series/${unit}.bin`);

/**
 * All of a job's series in one set, unit after unit (what one process, and a global model's one
 * fit, works on), and the number of series of each unit; `onUnit` sees each unit's set as it comes.
 */
export async function wholeSeriesSet(
  units: number,
  unitSeries: (unit: number) => Promise<SeriesSet>,
  onUnit: (unit: number, set: SeriesSet) => Promise<void> = async () => {},
): Promise<{ set: SeriesSet; unitSizes: number[] }> {
  const series: SeriesSet['series'] = [];
  const unitSizes: number[] = [];
  let last: SeriesSet | undefined;
  for (let unit = 0; unit < units; unit++) {
    last = await unitSeries(unit);
    await onUnit(unit, last);
    for (const s of last.series) series.push(s);
    unitSizes.push(last.series.length);
  }
  return { set: { ...last!, series }, unitSizes };
}

/** What the series set of a predictor result says about it (the set itself need not be at hand). */
export interface SeriesSetSummary {
  readonly seriesCount: number;
  readonly length: number;
}

/** The predictor document's result and Message, from its training. */
export function predictorOutcome(
  inputs: { plan: Pick<PredictorPlan, 'dimensions'>; jobArns: string[] },
  set: SeriesSetSummary,
  seriesParts: readonly string[],
  training: TrainingResult,
): { result: Json; message?: string } {
  const message = training.fallbacks
    ? `${training.fallbacks} of ${set.seriesCount} series fell back to a simpler model (e.g. ${training.fallbackExamples.join('; ')})`
    : undefined;
  return {
    result: {
      seriesParts,
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
  const source = await predictorSource(ctx, doc);
  const seriesParts: string[] = [];
  const { set } = await wholeSeriesSet(source.units, source.unitSeries, async (unit, unitSet) => {
    seriesParts.push(predictorSeriesUri(ctx, doc, unit));
    await ctx.store.put(seriesParts[unit]!, serializeSeriesSet(unitSet));
  });
  const training: TrainingResult = await runBacktests(set, source.backtest, (task) => ctx.pool.run(task), ctx.pool.size, (done, total) => ctx.progress(done, total));
  return predictorOutcome(source, { seriesCount: set.series.length, length: set.length }, seriesParts, training);
}

/**
 * What a forecast job forecasts: the predictor's series, unit by unit (the units its predictor
 * wrote), each series' algorithm and the settings.
 */
export interface ForecastSource {
  readonly units: number;
  unitSeries(unit: number): Promise<SeriesSet>;
  readonly assignments: string[];
  readonly params: Readonly<Record<string, string>>;
  readonly horizon: number;
  readonly types: string[];
  readonly keyColumns: string[];
  /** PerformHPO without a choice stored on the predictor: the forecast searches. */
  readonly hpo: boolean;
}

export async function forecastSource(ctx: Pick<JobContext, 'store' | 'repo'>, doc: ResourceDoc): Promise<ForecastSource> {
  const request = doc.request as { PredictorArn: string; ForecastTypes?: string[] };
  const predictor = await ctx.repo.get(request.PredictorArn);
  if (!predictor?.result) throw new InvalidInput(`Predictor ${request.PredictorArn} is not ACTIVE`);
  const plan = predictorPlan(predictor);
  // A predictor of an earlier engine version kept its series in one file (`seriesUri`): one unit.
  const parts = (predictor.result.seriesParts as string[] | undefined) ?? [String(predictor.result.seriesUri)];
  // PerformHPO chose its settings while training the predictor: forecast with them, no new search.
  const tuned = predictor.result.trainingParameters as Record<string, string> | undefined;
  return {
    units: parts.length,
    unitSeries: async (unit) => deserializeSeriesSet(await ctx.store.get(parts[unit]!), parseFrequency),
    assignments: predictor.result.assignments as string[],
    params: tuned ?? plan.params,
    horizon: plan.horizon,
    types: request.ForecastTypes ?? [...DEFAULT_FORECAST_TYPES],
    keyColumns: predictor.result.keyColumns as string[],
    hpo: plan.hpo && !tuned,
  };
}

/** Where a forecast job stores the predictions of one unit (what its exports read). */
export const forecastPredictionsUri = (ctx: Pick<JobContext, 'repo'>, doc: ResourceDoc, unit: number) => ctx.repo.dataUri('forecast', idOf(doc), `predictions/${unit}.bin`);

export async function runForecastJob(ctx: JobContext, doc: ResourceDoc): Promise<Json> {
  const f = await forecastSource(ctx, doc);
  const { set, unitSizes } = await wholeSeriesSet(f.units, f.unitSeries);
  const { predictions, fallbacks } = await forecastSeriesSet(
    set,
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
  // One predictions file per unit, as a sharded forecast's Finish writes them.
  const predictionsParts: string[] = [];
  let first = 0;
  for (const [unit, size] of unitSizes.entries()) {
    predictionsParts.push(forecastPredictionsUri(ctx, doc, unit));
    await ctx.store.put(predictionsParts[unit]!, serializePredictions({ ...predictions, items: predictions.items.slice(first, first + size) }));
    first += size;
  }
  return { predictionsParts, itemCount: predictions.items.length, fallbacks };
}

/** A forecast's predictions, one unit's file at a time (a forecast of an earlier version: one file). */
async function* forecastPredictions(ctx: Pick<JobContext, 'store'>, forecast: ResourceDoc): AsyncGenerator<Predictions> {
  const parts = (forecast.result!.predictionsParts as string[] | undefined) ?? [String(forecast.result!.predictionsUri)];
  for (const uri of parts) yield deserializePredictions(await ctx.store.get(uri), parseFrequency);
}

/** Streams the forecast's predictions into the export files: one unit's predictions and one part's lines at a time. */
export async function runExportJob(ctx: JobContext, doc: ResourceDoc): Promise<Json> {
  const request = doc.request as { ForecastArn: string; ForecastExportJobName: string; Destination: { S3Config: { Path: string } } };
  const forecast = await ctx.repo.get(request.ForecastArn);
  if (!forecast?.result) throw new InvalidInput(`Forecast ${request.ForecastArn} is not ACTIVE`);
  const total = Number(forecast.result.itemCount);
  ctx.progress(0, total);
  const parts = await writeExportFiles(
    ctx.store,
    request.Destination.S3Config.Path,
    request.ForecastExportJobName,
    new Date(doc.creationTime),
    forecastPredictions(ctx, forecast),
    ctx.exportPartRows,
  );
  ctx.progress(total, total);
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
