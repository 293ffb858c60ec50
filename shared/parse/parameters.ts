/**
 * Builds the PipelineInput the state machine starts with, from a validated message and what the
 * extraction found. Every predictor gets its own objects (the seed shared one nested config by
 * accident); names come from `resourceName`, so a retried step finds what it created.
 */
import { InvalidInput } from '../errors';
import { addPeriods, isDateOnly, parseFrequency } from '../frequency';
import { HPO_MODELS, type MessageParam } from '../message';
import { attemptExecutionName, attemptParts, executionName, resourceName } from '../names';
import { s3Uri } from '../ports/storage';
import {
  pipelineInputSchema,
  type DatasetSpec,
  type ForecastSpec,
  type Model,
  type PipelineInput,
  type PredictorSpec,
} from '../state';
import { parseCompactDate, type TimestampFormat } from '../time';
import type { TransformName } from '../transform';
import type { Extracted } from './extract';
import { dimensionsOf } from './schema';

export const ALGORITHM_ARNS: Partial<Record<Model, string>> = {
  CNNQR: 'arn:aws:forecast:::algorithm/CNN-QR',
  DEEPARP: 'arn:aws:forecast:::algorithm/Deep_AR_Plus',
  PROPHET: 'arn:aws:forecast:::algorithm/Prophet',
  NPTS: 'arn:aws:forecast:::algorithm/NPTS',
  ARIMA: 'arn:aws:forecast:::algorithm/ARIMA',
  ETS: 'arn:aws:forecast:::algorithm/ETS',
};

/** Models whose horizon may be at most ⅓ of the series (forecast-api.md, "Limits on parameters"). */
const THIRD_LIMITED: readonly Model[] = ['CNNQR', 'DEEPARP', 'AUTOML', 'AUTOPREDICTOR'];

/** The seed's target filling, one fresh object per predictor. */
function targetFilling(): Record<string, string> {
  return { frontfill: 'none', middlefill: 'mean', backfill: 'mean' };
}

/** Related features have no Forecast defaults; zero everywhere is the documented choice here. */
function relatedFilling(features: readonly string[]): Record<string, Record<string, string>> | undefined {
  if (features.length === 0) return undefined;
  return Object.fromEntries(features.map((f) => [f, { middlefill: 'zero', backfill: 'zero', futurefill: 'zero' }]));
}

/** `yyyy-MM-dd` for daily and coarser frequencies, else `yyyy-MM-dd HH:mm:ss`; the message may fix it. */
export function timestampFormatFor(param: Pick<MessageParam, 'ForecastFrequency' | 'TimestampFormat'>): TimestampFormat {
  if (param.TimestampFormat) return param.TimestampFormat;
  return isDateOnly(parseFrequency(param.ForecastFrequency)) ? 'yyyy-MM-dd' : 'yyyy-MM-dd HH:mm:ss';
}

/**
 * The S3 prefix of one attempt of a run: `s3://<bucket>/<DataName>/<dateCreate>/` for the first,
 * `…/<dateCreate>/a<N>/` after, so a re-run never overwrites the files an earlier attempt reads.
 */
export function runPrefix(bucket: string, param: Pick<MessageParam, 'DataName' | 'dateCreate'>, attempt = 1): string {
  return s3Uri(bucket, param.DataName, param.dateCreate, ...attemptParts(attempt), '');
}

/**
 * Horizon and backtest limits against the longest item history, per model (Forecast's rules):
 * horizon ≤ min(500, ⅓·length) for CNN-QR, DeepAR+, AutoML, AutoPredictor; ≤ length − 1 otherwise;
 * every backtest window needs horizon ≤ offset < ½·length with offset = horizon; and each model's
 * backtest windows, stepping back by the offset, must leave at least 2 periods to train the
 * earliest one on (length ≥ horizon · windows + 2). Each problem names the field to change.
 */
export function checkHorizon(param: MessageParam, historyLength: number): void {
  const h = param.ForecastHorizon;
  const problems: string[] = [];
  if (2 * h >= historyLength) {
    problems.push(`ForecastHorizon ${h} needs a history longer than ${2 * h} periods (backtest offset = horizon < ½ · length); the longest item has ${historyLength}`);
  }
  for (const model of param.Models) {
    if (THIRD_LIMITED.includes(model) && 3 * h > historyLength) {
      problems.push(`${model}: ForecastHorizon ${h} exceeds ⅓ of the history (${historyLength} periods → at most ${Math.floor(historyLength / 3)})`);
    }
    // AutoPredictor takes no backtest settings (it backtests once, over the horizon).
    if (model === 'AUTOPREDICTOR') continue;
    const own = param.ModelOverrides?.[model]?.NumberOfBacktestWindows;
    const windows = own ?? param.NumberOfBacktestWindows;
    if (2 * h < historyLength && h * windows + 2 > historyLength) {
      const field = own === undefined ? 'NumberOfBacktestWindows' : `ModelOverrides.${model}.NumberOfBacktestWindows`;
      problems.push(
        `${field} ${windows} for ${model}: ${windows} backtest windows of ForecastHorizon ${h} need at least ${h * windows + 2} periods of history; the longest item has ${historyLength} (at most ${Math.max(1, Math.floor((historyLength - 2) / h))} windows)`,
      );
    }
  }
  if (problems.length > 0) throw new InvalidInput(`Data too short for the request: ${problems.join('; ')}`, problems);
}

/** Which attempt of the run an input is for, and the delivery that asked for it. */
export interface AttemptIdentity {
  readonly attempt: number;
  readonly messageHash: string;
  readonly messageId?: string | undefined;
}

export interface BuildInput {
  readonly param: MessageParam;
  readonly attempt: AttemptIdentity;
  readonly bucket: string;
  readonly transform: TransformName;
  readonly target: Extracted;
  readonly related?: Extracted | undefined;
  readonly validation?: Extracted | undefined;
}

function datasetSpec(kind: 'TARGET' | 'RELATED', extracted: Extracted, param: MessageParam, timestampFormat: TimestampFormat, attempt: number): DatasetSpec {
  // Every resource name of a run carries its dateCreate, and from the second attempt on the attempt:
  // a run never finds (and reuses or deletes) what an earlier run or attempt kept (PerformDelete false).
  const name = resourceName(param.DataName, kind, param.dateCreate, ...attemptParts(attempt));
  return {
    kind,
    name,
    datasetType: kind === 'TARGET' ? 'TARGET_TIME_SERIES' : 'RELATED_TIME_SERIES',
    domain: 'CUSTOM',
    dataFrequency: param.ForecastFrequency,
    schema: { Attributes: extracted.schema.columns.map((c) => ({ ...c.attribute })) },
    s3Uri: extracted.uri,
    importJobName: resourceName(param.DataName, kind, 'import', param.dateCreate, ...attemptParts(attempt)),
    timestampFormat,
  };
}

function predictorSpecs(param: MessageParam, features: readonly string[], dimensions: readonly string[], attempt: number): PredictorSpec[] {
  return param.Models.map((model): PredictorSpec => {
    const override = param.ModelOverrides?.[model] ?? {};
    const backtestWindows = override.NumberOfBacktestWindows ?? param.NumberOfBacktestWindows;
    const trainingParameters = override.TrainingParameters ? { ...override.TrainingParameters } : undefined;
    const performHPO = HPO_MODELS.includes(model) ? (override.PerformHPO ?? trainingParameters === undefined) : false;
    const spec: PredictorSpec = {
      // dateCreate in the name (see datasetSpec): a later run must train its own predictor, not find
      // the one an earlier run kept (ResourceAlreadyExists → by name) and forecast from older data.
      name: resourceName(param.DataName, model, backtestWindows, ...(performHPO ? ['hpo'] : []), param.dateCreate, ...attemptParts(attempt)),
      model,
      api: model === 'AUTOPREDICTOR' ? 'auto' : 'legacy',
      performAutoML: model === 'AUTOML',
      performHPO,
      backtestWindows,
      backtestWindowOffset: param.ForecastHorizon,
      forecastHorizon: param.ForecastHorizon,
      forecastTypes: [...param.ForecastTypes],
      targetFilling: targetFilling(),
    };
    const arn = ALGORITHM_ARNS[model];
    if (arn) spec.algorithmArn = arn;
    if (trainingParameters) spec.trainingParameters = trainingParameters;
    if (dimensions.length > 0) spec.forecastDimensions = [...dimensions];
    const filling = relatedFilling(features);
    if (filling) spec.relatedFilling = filling;
    return spec;
  });
}

function forecastSpecs(param: MessageParam, bucket: string, predictors: readonly PredictorSpec[], attempt: number): ForecastSpec[] {
  return predictors.map((p) => {
    const name = resourceName(p.name, 'forecast');
    return {
      name,
      predictorName: p.name,
      model: p.model,
      forecastTypes: [...p.forecastTypes],
      exportJobName: resourceName(name, param.dateCreate),
      exportS3Uri: `${runPrefix(bucket, param, attempt)}exports/${name}/`,
    };
  });
}

/**
 * Legacy predictors (everything but AUTOPREDICTOR) need related data for the whole forecast horizon:
 * the related series must reach `horizon` periods past the target's last timestamp.
 */
export function checkRelatedCoverage(param: MessageParam, target: Extracted, related: Extracted): void {
  if (!param.Models.some((m) => m !== 'AUTOPREDICTOR')) return;
  const lastTarget = target.stats.last;
  const lastRelated = related.stats.last;
  if (!lastTarget || !lastRelated) return;
  const needed = addPeriods(lastTarget, parseFrequency(param.ForecastFrequency), param.ForecastHorizon);
  if (lastRelated.getTime() < needed.getTime()) {
    throw new InvalidInput(
      `RELATED_QUERY data ends ${lastRelated.toISOString()}, but the forecast horizon (${param.ForecastHorizon} × ${param.ForecastFrequency} after the last target timestamp ${lastTarget.toISOString()}) needs related values until ${needed.toISOString()}`,
      ['RELATED_QUERY: does not cover the forecast horizon'],
    );
  }
}

/**
 * `dateCreate` is where the forecast starts (the default TARGET_QUERY reads the history before it),
 * but a forecast starts after the data's last timestamp. When the data ends early, the first
 * forecast periods lie before dateCreate: each period that ends on or before dateCreate is "in the
 * past". Every one of them in the past is an error naming dateCreate (nothing useful would be
 * forecast); some of them is a warning, returned for the run's data-issues record; none is fine.
 */
export function checkFreshness(param: MessageParam, target: Extracted): string | undefined {
  const last = target.stats.last;
  if (!last) return undefined;
  const frequency = parseFrequency(param.ForecastFrequency);
  const start = parseCompactDate(param.dateCreate).getTime();
  const h = param.ForecastHorizon;
  let past = 0;
  while (past < h && addPeriods(last, frequency, past + 2).getTime() <= start) past++;
  if (past === 0) return undefined;
  const first = addPeriods(last, frequency, 1).toISOString();
  if (past === h) {
    throw new InvalidInput(
      `dateCreate ${param.dateCreate}: the target data ends ${last.toISOString()}, so the forecast would start ${first} and all ${h} forecast periods (${frequency.text}) would lie before dateCreate; load newer data or set dateCreate to the day after the data ends`,
      ['dateCreate: the data ends before the forecast would start'],
    );
  }
  return `the target data ends ${last.toISOString()}: the forecast starts ${first}, not at dateCreate ${param.dateCreate}, and its first ${past} of ${h} periods (${frequency.text}) lie before dateCreate`;
}

/** The full, validated PipelineInput of one attempt (deterministic: the same attempt and data build the same document). */

export function buildPipelineInput(input: BuildInput): PipelineInput {
  const { param, bucket, target, related, validation } = input;
  const { attempt } = input.attempt;
  checkHorizon(param, target.stats.longestSeries);
  if (related) checkRelatedCoverage(param, target, related);
  const timestampFormat = timestampFormatFor(param);
  const features = related ? related.schema.columns.filter((c) => c.role === 'feature').map((c) => c.attribute.AttributeName) : [];
  const predictors = predictorSpecs(param, features, dimensionsOf(target.schema), attempt);
  const document: PipelineInput = {
    run: {
      runId: executionName(param.DataName, param.dateCreate),
      attempt,
      executionName: attemptExecutionName(executionName(param.DataName, param.dateCreate), attempt),
      messageHash: input.attempt.messageHash,
      ...(input.attempt.messageId ? { messageId: input.attempt.messageId } : {}),
      dataName: param.DataName,
      dateCreate: param.dateCreate,
      bucket,
      performDelete: param.PerformDelete,
      transform: input.transform,
      nonNegative: !param.AllowNegative,
      frequency: param.ForecastFrequency,
      forecastHorizon: param.ForecastHorizon,
      timestampFormat,
    },
    datasetGroup: { name: resourceName(param.DataName, 'group', param.dateCreate, ...attemptParts(attempt)), domain: 'CUSTOM' },
    datasets: [
      datasetSpec('TARGET', target, param, timestampFormat, attempt),
      ...(related ? [datasetSpec('RELATED', related, param, timestampFormat, attempt)] : []),
    ],
    predictors,
    forecasts: forecastSpecs(param, bucket, predictors, attempt),
  };
  if (validation) document.validation = { s3Uri: validation.uri, rows: validation.stats.rows };
  return pipelineInputSchema.parse(document);
}
