/** Predictors (legacy and auto): validation of the training request, shapes, accuracy metrics. */
import {
  CreateAutoPredictorCommand,
  CreatePredictorCommand,
  DeletePredictorCommand,
  DescribeAutoPredictorCommand,
  DescribePredictorCommand,
  GetAccuracyMetricsCommand,
  ListPredictorsCommand,
} from '@aws-sdk/client-forecast';
import { InvalidInput, NotImplemented } from '../../shared/errors';
import { ALGORITHMS, ALGORITHM_ARNS, algorithmFromArn, isGlobalAlgorithm, modelSpec, validateTrainingParameters } from '../models/registry';
import { IN_PROGRESS, type ResourceDoc } from '../repository';
import { relatedFilling, targetFilling } from '../series';
import { inUse } from '../service-errors';
import type { Evaluation, WindowResult } from '../training';
import { checkForecastTypes, checkFrequency, checkInteger, checkName, invalid, required } from '../validation';
import type { CommandContext, CommandHandler, Input } from './command';
import { applyFilters, page, statusOf, times } from './listing';

export function predictorCommands({ resources }: CommandContext): CommandHandler[] {
  async function groupForPredictor(arn: unknown, field: string): Promise<ResourceDoc> {
    const group = await resources.mustRead(arn, 'dataset-group', field);
    if (group.status !== 'ACTIVE') throw inUse(`Dataset group ${group.name} is ${group.status}`);
    return group;
  }

  const describePredictor = async (input: Input) => predictorShape(await resources.mustRead(input.PredictorArn, 'predictor', 'PredictorArn'));

  return [
    {
      command: CreatePredictorCommand,
      operation: 'CreatePredictor',
      handle: async (input) => {
        const name = checkName('PredictorName', input.PredictorName);
        const horizon = checkInteger('ForecastHorizon', input.ForecastHorizon, 1, 500);
        checkForecastTypes(input.ForecastTypes);
        if (input.PerformAutoML && input.PerformHPO) throw invalid('PerformHPO must be false when PerformAutoML is true');
        let plan: { candidates: string[]; selection: 'single' | 'automl' };
        if (input.PerformAutoML) {
          if (input.AlgorithmArn) throw invalid('Give either AlgorithmArn or PerformAutoML=true, not both');
          if (input.TrainingParameters && Object.keys(input.TrainingParameters).length) throw invalid('TrainingParameters cannot be set with PerformAutoML');
          plan = { candidates: availableCandidates(), selection: 'automl' };
        } else {
          const arn = required('AlgorithmArn (or PerformAutoML=true)', input.AlgorithmArn as string | undefined);
          let algorithm: string;
          try {
            algorithm = algorithmFromArn(arn);
            validateTrainingParameters(algorithm, input.TrainingParameters);
            if (!isGlobalAlgorithm(algorithm)) modelSpec(algorithm, input.TrainingParameters);
          } catch (error) {
            if (error instanceof InvalidInput || error instanceof NotImplemented) throw invalid(error.message);
            throw error;
          }
          if (input.PerformHPO && !isGlobalAlgorithm(algorithm)) throw invalid(`PerformHPO applies only to DeepAR+ and CNN-QR, not ${arn}`);
          plan = { candidates: [algorithm], selection: 'single' };
        }
        checkEvaluation(input, horizon);
        const featurization = required('FeaturizationConfig', input.FeaturizationConfig as Input | undefined);
        checkFrequency('FeaturizationConfig.ForecastFrequency', featurization.ForecastFrequency);
        for (const f of (featurization.Featurizations ?? []) as Input[]) {
          for (const method of (f.FeaturizationPipeline ?? []) as Input[]) {
            if (method.FeaturizationMethodName !== 'filling') throw invalid(`FeaturizationMethodName must be "filling", got "${method.FeaturizationMethodName}"`);
            checkFilling(method.FeaturizationMethodParameters, f.AttributeName, f.AttributeName === 'target_value');
          }
        }
        const group = await groupForPredictor(input.InputDataConfig?.DatasetGroupArn, 'InputDataConfig.DatasetGroupArn');
        const doc = await resources.create('predictor', name, name, { ...input, kind: 'legacy', plan }, group.arn);
        return { PredictorArn: doc.arn };
      },
    },
    {
      command: CreateAutoPredictorCommand,
      operation: 'CreateAutoPredictor',
      handle: async (input) => {
        const name = checkName('PredictorName', input.PredictorName);
        if (input.ReferencePredictorArn) throw invalid('Retraining from ReferencePredictorArn is not supported by the built-in engine');
        checkInteger('ForecastHorizon', input.ForecastHorizon, 1, 500);
        checkForecastTypes(input.ForecastTypes);
        checkFrequency('ForecastFrequency', input.ForecastFrequency);
        for (const c of (input.DataConfig?.AttributeConfigs ?? []) as Input[]) checkFilling(c.Transformations, c.AttributeName, c.AttributeName === 'target_value');
        const group = await groupForPredictor(input.DataConfig?.DatasetGroupArn, 'DataConfig.DatasetGroupArn');
        const doc = await resources.create('predictor', name, name, { ...input, kind: 'auto', plan: { candidates: ['AUTO'], selection: 'single' } }, group.arn);
        return { PredictorArn: doc.arn };
      },
    },
    { command: DescribePredictorCommand, operation: 'DescribePredictor', handle: describePredictor },
    { command: DescribeAutoPredictorCommand, operation: 'DescribeAutoPredictor', handle: describePredictor },
    { command: DeletePredictorCommand, operation: 'DeletePredictor', handle: (input) => resources.deleteOne('predictor', 'PredictorArn', input) },
    {
      command: ListPredictorsCommand,
      operation: 'ListPredictors',
      handle: async (input) => {
        const docs = applyFilters(await resources.readAll('predictor'), input.Filters, { DatasetGroupArn: (d) => d.parentArn, Status: (d) => d.status });
        return page(
          docs.map((d) => ({ PredictorArn: d.arn, PredictorName: d.name, DatasetGroupArn: d.parentArn, IsAutoPredictor: d.request.kind === 'auto', ...statusOf(d), ...times(d) })),
          input,
          'Predictors',
        );
      },
    },
    {
      command: GetAccuracyMetricsCommand,
      operation: 'GetAccuracyMetrics',
      handle: async (input) => {
        const d = await resources.mustRead(input.PredictorArn, 'predictor', 'PredictorArn');
        if (d.status !== 'ACTIVE') throw inUse(`Predictor ${d.name} is ${d.status}; accuracy metrics exist once it is ACTIVE`);
        const evaluations = (d.result?.evaluations ?? []) as Evaluation[];
        const auto = d.request.kind === 'auto';
        return {
          PredictorEvaluationResults: evaluations.map((e) => ({
            AlgorithmArn: ALGORITHM_ARNS[e.algorithm as keyof typeof ALGORITHM_ARNS] ?? `arn:aws:forecast:::algorithm/${e.algorithm === 'AUTO' ? 'Ensemble' : e.algorithm}`,
            TestWindows: [windowShape(e.summary, 'SUMMARY'), ...e.windows.map((w) => windowShape(w, 'COMPUTED'))],
          })),
          IsAutoPredictor: auto,
          AutoMLOverrideStrategy: d.request.AutoMLOverrideStrategy,
          OptimizationMetric: d.request.OptimizationMetric ?? (auto ? 'AverageWeightedQuantileLoss' : undefined),
        };
      },
    },
  ];
}

function checkEvaluation(input: Input, horizon: number) {
  const evaluation = input.EvaluationParameters as Input | undefined;
  if (!evaluation) return;
  if (evaluation.NumberOfBacktestWindows !== undefined) checkInteger('EvaluationParameters.NumberOfBacktestWindows', evaluation.NumberOfBacktestWindows, 1, 5);
  if (evaluation.BackTestWindowOffset !== undefined) {
    const offset = checkInteger('EvaluationParameters.BackTestWindowOffset', evaluation.BackTestWindowOffset, 1, 1_000_000);
    if (offset < horizon) throw invalid(`BackTestWindowOffset (${offset}) must be ≥ ForecastHorizon (${horizon})`);
  }
}

function checkFilling(parameters: Record<string, string> | undefined, attribute: string, target: boolean) {
  try {
    if (target) targetFilling(parameters, attribute);
    else relatedFilling(parameters, attribute);
  } catch (error) {
    throw invalid((error as Error).message);
  }
}

function availableCandidates(): string[] {
  return ALGORITHMS.filter((a) => {
    try {
      modelSpec(a);
      return true;
    } catch (error) {
      if (error instanceof NotImplemented) return false;
      throw error;
    }
  });
}

function predictorShape(d: ResourceDoc): Record<string, unknown> {
  const r = d.request;
  const result = d.result ?? {};
  const auto = r.kind === 'auto';
  const common = {
    PredictorArn: d.arn,
    PredictorName: d.name,
    ForecastHorizon: r.ForecastHorizon,
    ForecastTypes: r.ForecastTypes ?? ['0.1', '0.5', '0.9'],
    DatasetImportJobArns: result.datasetImportJobArns,
    ...statusOf(d),
    ...times(d),
    EstimatedTimeRemainingInMinutes: IN_PROGRESS.has(d.status) ? 1 : 0,
  };
  if (auto) {
    return {
      ...common,
      ForecastFrequency: r.ForecastFrequency,
      ForecastDimensions: r.ForecastDimensions,
      DataConfig: r.DataConfig,
      OptimizationMetric: r.OptimizationMetric ?? 'AverageWeightedQuantileLoss',
    };
  }
  const chosen = result.algorithm as string | undefined;
  return {
    ...common,
    AlgorithmArn: r.PerformAutoML ? (chosen ? ALGORITHM_ARNS[chosen as keyof typeof ALGORITHM_ARNS] : undefined) : r.AlgorithmArn,
    AutoMLAlgorithmArns: r.PerformAutoML && chosen ? [ALGORITHM_ARNS[chosen as keyof typeof ALGORITHM_ARNS]] : undefined,
    PerformAutoML: r.PerformAutoML ?? false,
    PerformHPO: r.PerformHPO ?? false,
    TrainingParameters: r.TrainingParameters,
    EvaluationParameters: {
      NumberOfBacktestWindows: (r.EvaluationParameters as Input | undefined)?.NumberOfBacktestWindows ?? 1,
      BackTestWindowOffset: (r.EvaluationParameters as Input | undefined)?.BackTestWindowOffset ?? r.ForecastHorizon,
    },
    InputDataConfig: r.InputDataConfig,
    FeaturizationConfig: r.FeaturizationConfig,
    IsAutoPredictor: false,
    OptimizationMetric: r.OptimizationMetric,
  };
}

function windowShape(w: WindowResult, type: 'SUMMARY' | 'COMPUTED') {
  const num = (v: number) => (Number.isFinite(v) ? v : undefined);
  return {
    TestWindowStart: type === 'COMPUTED' ? new Date(w.start) : undefined,
    TestWindowEnd: type === 'COMPUTED' ? new Date(w.end) : undefined,
    ItemCount: w.itemCount,
    EvaluationType: type,
    Metrics: {
      RMSE: num(w.metrics.rmse),
      WeightedQuantileLosses: w.metrics.weightedQuantileLosses.map((l) => ({ Quantile: l.quantile, LossValue: num(l.loss) })),
      ErrorMetrics: w.errorMetrics.map((e) => ({ ForecastType: e.ForecastType, WAPE: num(e.WAPE), RMSE: num(e.RMSE), MASE: num(e.MASE), MAPE: num(e.MAPE) })),
      AverageWeightedQuantileLoss: num(w.metrics.averageWeightedQuantileLoss),
    },
  };
}
