/**
 * Create-Predictors: one predictor per requested model, several per run. Legacy predictors
 * (CreatePredictor: an algorithm with or without HPO, manual hyperparameters with HPO off,
 * or PerformAutoML) and AutoPredictor (CreateAutoPredictor). When a predictor is ACTIVE
 * its accuracy metrics are read (GetAccuracyMetrics) into the slice and emitted as EMF.
 */
import {
  CreateAutoPredictorCommand,
  CreatePredictorCommand,
  DescribeAutoPredictorCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
  ListPredictorsCommand,
  type Featurization,
  type GetAccuracyMetricsResponse,
} from '@aws-sdk/client-forecast';
import { InvalidInput } from '../errors';
import { publishAccuracyMetrics } from '../observability';
import type { ForecastPort } from '../ports';
import type { AccuracyMetrics, PipelineState, PredictorSpec, Results } from '../state';
import { check, createOrFind, filterIs, findInPages } from './common';
import { attemptModel, progressOf, settle } from './models';

export type PredictorsSlice = NonNullable<Results['predictors']>;
type PredictorEntry = PredictorsSlice[number];

export async function findPredictorArn(
  forecast: ForecastPort,
  name: string,
  datasetGroupArn?: string,
): Promise<string | undefined> {
  const found = await findInPages(
    async (NextToken) => {
      const page = await forecast.send(
        new ListPredictorsCommand({ NextToken, Filters: datasetGroupArn ? filterIs('DatasetGroupArn', datasetGroupArn) : undefined }),
      );
      return { items: page.Predictors, next: page.NextToken };
    },
    (p) => p.PredictorName === name,
  );
  return found?.PredictorArn;
}

/** Rules of CreatePredictor that the service would otherwise reject after a queue wait. */
export function validatePredictorSpec(spec: PredictorSpec): void {
  if (spec.api === 'auto') return;
  if (spec.performAutoML && spec.performHPO) {
    throw new InvalidInput(`predictor ${spec.name}: PerformAutoML requires PerformHPO=false`);
  }
  if (spec.performAutoML && spec.algorithmArn) {
    throw new InvalidInput(`predictor ${spec.name}: PerformAutoML takes no AlgorithmArn (got ${spec.algorithmArn})`);
  }
  if (!spec.performAutoML && !spec.algorithmArn) {
    throw new InvalidInput(`predictor ${spec.name}: an AlgorithmArn is required unless PerformAutoML is true`);
  }
  if (spec.performHPO && !/CNN-QR|Deep_AR_Plus/.test(spec.algorithmArn ?? '')) {
    throw new InvalidInput(`predictor ${spec.name}: HPO applies only to CNN-QR and DeepAR+ (got ${spec.algorithmArn})`);
  }
}

/** Each predictor gets its own featurization objects (the seed shared one by accident). */
function featurizations(spec: PredictorSpec): Featurization[] {
  const filling = (attribute: string, parameters: Record<string, string>): Featurization => ({
    AttributeName: attribute,
    FeaturizationPipeline: [{ FeaturizationMethodName: 'filling', FeaturizationMethodParameters: { ...parameters } }],
  });
  return [
    filling('target_value', spec.targetFilling),
    ...Object.entries(spec.relatedFilling ?? {}).map(([attribute, parameters]) => filling(attribute, parameters)),
  ];
}

/** Sends CreateAutoPredictor or CreatePredictor; returns the new predictor's ARN. */
async function sendCreate(forecast: ForecastPort, spec: PredictorSpec, state: PipelineState, datasetGroupArn: string) {
  if (spec.api === 'auto') {
    const out = await forecast.send(new CreateAutoPredictorCommand({
      PredictorName: spec.name,
      ForecastHorizon: spec.forecastHorizon,
      ForecastTypes: [...spec.forecastTypes],
      ForecastFrequency: state.run.frequency,
      ForecastDimensions: spec.forecastDimensions ? [...spec.forecastDimensions] : undefined,
      DataConfig: {
        DatasetGroupArn: datasetGroupArn,
        AttributeConfigs: [
          { AttributeName: 'target_value', Transformations: { ...spec.targetFilling } },
          ...Object.entries(spec.relatedFilling ?? {}).map(([AttributeName, t]) => ({ AttributeName, Transformations: { ...t } })),
        ],
      },
    }));
    return out.PredictorArn;
  }
  const out = await forecast.send(new CreatePredictorCommand({
    PredictorName: spec.name,
    AlgorithmArn: spec.performAutoML ? undefined : spec.algorithmArn,
    ForecastHorizon: spec.forecastHorizon,
    ForecastTypes: [...spec.forecastTypes],
    PerformAutoML: spec.performAutoML,
    PerformHPO: spec.performHPO,
    TrainingParameters: spec.trainingParameters ? { ...spec.trainingParameters } : undefined,
    EvaluationParameters: {
      NumberOfBacktestWindows: spec.backtestWindows,
      BackTestWindowOffset: spec.backtestWindowOffset,
    },
    InputDataConfig: { DatasetGroupArn: datasetGroupArn },
    FeaturizationConfig: {
      ForecastFrequency: state.run.frequency,
      ForecastDimensions: spec.forecastDimensions ? [...spec.forecastDimensions] : undefined,
      Featurizations: featurizations(spec),
    },
  }));
  return out.PredictorArn;
}

/** The SUMMARY window of the first evaluation result, as the slice's metrics. */
export function toAccuracyMetrics(response: GetAccuracyMetricsResponse): AccuracyMetrics | undefined {
  const windows = response.PredictorEvaluationResults?.flatMap((r) => r.TestWindows ?? []) ?? [];
  const summary = windows.find((w) => w.EvaluationType === 'SUMMARY') ?? windows[0];
  const metrics = summary?.Metrics;
  if (!metrics) return undefined;
  const errors = metrics.ErrorMetrics?.find((e) => e.ForecastType === 'mean') ?? metrics.ErrorMetrics?.[0];
  const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? null : v);
  const weightedQuantileLosses: Record<string, number> = {};
  for (const loss of metrics.WeightedQuantileLosses ?? []) {
    if (loss.Quantile !== undefined && loss.LossValue !== undefined) weightedQuantileLosses[String(loss.Quantile)] = loss.LossValue;
  }
  return {
    rmse: num(errors?.RMSE ?? metrics.RMSE),
    wape: num(errors?.WAPE),
    mape: num(errors?.MAPE),
    mase: num(errors?.MASE),
    averageWeightedQuantileLoss: num(metrics.AverageWeightedQuantileLoss),
    weightedQuantileLosses,
  };
}

export async function createPredictors(
  state: PipelineState,
  deps: { forecast: ForecastPort; publishMetrics?: typeof publishAccuracyMetrics },
): Promise<PredictorsSlice> {
  const { forecast, publishMetrics = publishAccuracyMetrics } = deps;
  const datasetGroupArn = state.results.datasetGroup?.arn;
  if (!datasetGroupArn) throw new InvalidInput('results.datasetGroup is missing: Create-Dataset-Group must run first');
  state.predictors.forEach(validatePredictorSpec);

  const progress = await Promise.all(
    state.predictors.map((spec) =>
      attemptModel<PredictorEntry>(
        spec.name,
        async () => {
          const arn = await createOrFind(
            `predictor ${spec.name}`,
            () => sendCreate(forecast, spec, state, datasetGroupArn),
            () => findPredictorArn(forecast, spec.name, datasetGroupArn),
          );
          const described =
            spec.api === 'auto'
              ? await forecast.send(new DescribeAutoPredictorCommand({ PredictorArn: arn }))
              : await forecast.send(new DescribePredictorCommand({ PredictorArn: arn }));
          return progressOf(check({ name: spec.name, arn, status: described.Status, message: described.Message }), (status, message) => ({
            name: spec.name,
            model: spec.model,
            arn,
            status,
            ...(message ? { message } : {}),
          }));
        },
        (message) => ({ name: spec.name, model: spec.model, arn: '', status: 'CREATE_FAILED', message }),
      ),
    ),
  );
  const predictors = settle('Create predictors', progress);

  // Metrics only once every predictor has settled: this invocation is the step's last.
  return Promise.all(
    predictors.map(async (entry) => {
      if (entry.status !== 'ACTIVE') return entry;
      const accuracy = toAccuracyMetrics(await forecast.send(new GetAccuracyMetricsCommand({ PredictorArn: entry.arn })));
      if (!accuracy) return entry;
      publishMetrics(entry.model, accuracy);
      return { ...entry, metrics: accuracy };
    }),
  );
}
