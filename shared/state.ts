/**
 * The pipeline state: the document parse starts the state machine with, and the slices
 * each step adds under `results` (each Task's ResultPath). zod schemas are the contract
 * between parse, the step Lambdas, the local runner and the warehouse writer.
 */
import { z } from 'zod';
import { isFrequency } from './frequency';
import { RESOURCE_NAME_PATTERN, MAX_RESOURCE_NAME } from './names';
import { TIMESTAMP_FORMATS } from './time';
import { TRANSFORM_NAMES } from './transform';

export const resourceNameSchema = z
  .string()
  .max(MAX_RESOURCE_NAME)
  .regex(RESOURCE_NAME_PATTERN, 'must start with a letter and hold only letters, digits and _');
export const frequencySchema = z.string().refine(isFrequency, 'not a Forecast frequency');
export const s3UriSchema = z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must be s3://bucket/key');
/** A forecast type: a quantile `0.01`…`0.99` as a string, or `mean`. */
export const forecastTypeSchema = z
  .string()
  .refine((t) => t === 'mean' || (/^0\.\d{1,2}$/.test(t) && Number(t) >= 0.01 && Number(t) <= 0.99), {
    message: 'must be "mean" or a quantile from 0.01 to 0.99',
  });

/** Models a message can ask for. CNNQR and DEEPARP run on Amazon Forecast only. */
export const MODELS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET', 'CNNQR', 'DEEPARP', 'AUTOML', 'AUTOPREDICTOR'] as const;
export const modelSchema = z.enum(MODELS);
export type Model = z.infer<typeof modelSchema>;

export const attributeSchema = z.object({
  AttributeName: z.string().min(1),
  AttributeType: z.enum(['string', 'integer', 'float', 'timestamp', 'geolocation']),
});
export type Attribute = z.infer<typeof attributeSchema>;

export const datasetSpecSchema = z.object({
  kind: z.enum(['TARGET', 'RELATED']),
  name: resourceNameSchema,
  datasetType: z.enum(['TARGET_TIME_SERIES', 'RELATED_TIME_SERIES']),
  domain: z.literal('CUSTOM'),
  dataFrequency: frequencySchema,
  schema: z.object({ Attributes: z.array(attributeSchema).min(2) }),
  /** Where parse wrote the headerless CSV, columns in schema order. */
  s3Uri: s3UriSchema,
  importJobName: resourceNameSchema,
  timestampFormat: z.enum(TIMESTAMP_FORMATS),
});
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;

/** Forecast featurization filling for the target (forecast-api.md, "Featurization"). */
export const fillingSchema = z.record(z.string(), z.string());

export const predictorSpecSchema = z.object({
  name: resourceNameSchema,
  model: modelSchema,
  /** `legacy` → CreatePredictor; `auto` → CreateAutoPredictor (AUTOPREDICTOR). */
  api: z.enum(['legacy', 'auto']),
  algorithmArn: z.string().optional(),
  performAutoML: z.boolean(),
  performHPO: z.boolean(),
  trainingParameters: z.record(z.string(), z.string()).optional(),
  /** The target's dimension attributes (e.g. `store`): each item × dimension values is its own series. */
  forecastDimensions: z.array(z.string().min(1)).optional(),
  backtestWindows: z.number().int().min(1).max(5),
  backtestWindowOffset: z.number().int().positive(),
  forecastHorizon: z.number().int().positive().max(500),
  forecastTypes: z.array(forecastTypeSchema).min(1).max(5),
  targetFilling: fillingSchema,
  relatedFilling: z.record(z.string(), fillingSchema).optional(),
});
export type PredictorSpec = z.infer<typeof predictorSpecSchema>;

export const forecastSpecSchema = z.object({
  name: resourceNameSchema,
  predictorName: resourceNameSchema,
  model: modelSchema,
  forecastTypes: z.array(forecastTypeSchema).min(1).max(5),
  exportJobName: resourceNameSchema,
  /** The export job's own folder: nothing else is ever written under it. */
  exportS3Uri: s3UriSchema,
});
export type ForecastSpec = z.infer<typeof forecastSpecSchema>;

/** What parse starts the execution with. */
export const pipelineInputSchema = z.object({
  run: z.object({
    /** The run: `<DataName>_<YYYY_MM_DD>`; its results in the warehouse are keyed by it. */
    runId: z.string().min(1).max(80),
    /** Which attempt of the run this execution is (1, 2, …; see shared/parse/attempts.ts). */
    attempt: z.number().int().positive().default(1),
    /** The execution name: the runId for the first attempt, `<runId>_a<N>` after. */
    executionName: z.string().min(1).max(80).optional(),
    /** SHA-256 of the message that started the attempt: tells a redelivery from a new request. */
    messageHash: z.string().optional(),
    /** The SQS message id that started it (absent from the console). */
    messageId: z.string().optional(),
    dataName: resourceNameSchema,
    dateCreate: z.string().regex(/^\d{8}$/),
    bucket: z.string().min(3),
    performDelete: z.boolean(),
    /** Applied by parse to target and validation values; notify applies its inverse. */
    transform: z.enum(TRANSFORM_NAMES as [string, ...string[]]),
    /** Demand: notify floors forecasts at zero (the message's `AllowNegative: true` turns it off). */
    nonNegative: z.boolean().default(true),
    frequency: frequencySchema,
    forecastHorizon: z.number().int().positive().max(500),
    timestampFormat: z.enum(TIMESTAMP_FORMATS),
  }),
  datasetGroup: z.object({ name: resourceNameSchema, domain: z.literal('CUSTOM') }),
  datasets: z.array(datasetSpecSchema).min(1).max(3),
  predictors: z.array(predictorSpecSchema).min(1),
  forecasts: z.array(forecastSpecSchema).min(1),
  /** Actuals after the training cut-off, to score forecasts against (optional). */
  validation: z.object({ s3Uri: s3UriSchema, rows: z.number().int().nonnegative() }).optional(),
});
export type PipelineInput = z.infer<typeof pipelineInputSchema>;

export const accuracyMetricsSchema = z.object({
  rmse: z.number().nullable(),
  wape: z.number().nullable(),
  mape: z.number().nullable(),
  mase: z.number().nullable(),
  averageWeightedQuantileLoss: z.number().nullable(),
  /** wQL per quantile, keyed by the forecast type (`0.5`). */
  weightedQuantileLosses: z.record(z.string(), z.number()),
});
export type AccuracyMetrics = z.infer<typeof accuracyMetricsSchema>;

/** Slices the steps write under `$.results` (one ResultPath each). */
/** A caught error as the Failure step recorded it. */
const recordedErrorSchema = z.object({ error: z.string(), cause: z.string(), failedState: z.string().optional() });

export const resultsSchema = z.object({
  datasets: z.array(z.object({ kind: z.enum(['TARGET', 'RELATED']), name: z.string(), arn: z.string() })).optional(),
  datasetGroup: z.object({ name: z.string(), arn: z.string() }).optional(),
  importJobs: z.array(z.object({ datasetName: z.string(), name: z.string(), arn: z.string() })).optional(),
  predictors: z
    .array(
      z.object({
        name: z.string(),
        model: modelSchema,
        arn: z.string(),
        status: z.enum(['ACTIVE', 'CREATE_FAILED']),
        message: z.string().optional(),
        metrics: accuracyMetricsSchema.optional(),
      }),
    )
    .optional(),
  forecasts: z
    .array(
      z.object({
        name: z.string(),
        predictorName: z.string(),
        model: modelSchema,
        arn: z.string(),
        /** Empty when the forecast itself failed before an export job existed. */
        exportJobArn: z.string(),
        exportS3Uri: z.string(),
        /** Absent means ACTIVE (exported); CREATE_FAILED marks a failed forecast or export (partial policy). */
        status: z.enum(['ACTIVE', 'CREATE_FAILED']).optional(),
        message: z.string().optional(),
      }),
    )
    .optional(),
  /** Written by Notify: what reached the warehouse. PARTIAL = some models failed, the others delivered. */
  notify: z
    .object({
      status: z.enum(['SUCCEEDED', 'PARTIAL']),
      forecastRows: z.number().int().nonnegative(),
      metricRows: z.number().int().nonnegative(),
      failedModels: z.array(z.string()),
    })
    .optional(),
  /**
   * Written by the Failure step after it recorded the caught error. `postDeliveryOf`: the attempt had
   * delivered (SUCCEEDED / PARTIAL) before the error, which was recorded as POST_DELIVERY_ERROR.
   */
  failure: recordedErrorSchema.extend({ postDeliveryOf: z.enum(['SUCCEEDED', 'PARTIAL']).optional() }).optional(),
  /**
   * Written by the Failure step when a cleanup step gave up ($.cleanupError): the error added to the
   * run's status row (`CLEANUP_ERROR`), and the run status that row keeps.
   */
  cleanupFailure: recordedErrorSchema.extend({ runStatus: z.enum(['SUCCEEDED', 'PARTIAL', 'FAILED']) }).optional(),
  /** Written by the cleanup steps: names of the resources confirmed deleted (or already gone). */
  deletedForecasts: z.object({ deleted: z.array(z.string()) }).optional(),
  deletedPredictors: z.object({ deleted: z.array(z.string()) }).optional(),
  deletedDatasets: z.object({ deleted: z.array(z.string()) }).optional(),
});
export type Results = z.infer<typeof resultsSchema>;

/** The error Step Functions' Catch puts at `$.error`. */
export const caughtErrorSchema = z.object({
  Error: z.string(),
  Cause: z.string().optional(),
  /** The state whose error was caught (the ASL's Caught-* Pass states add it). */
  State: z.string().optional(),
});

export type CaughtError = z.infer<typeof caughtErrorSchema>;

export const pipelineStateSchema = pipelineInputSchema.extend({
  results: resultsSchema.default({}),
  error: caughtErrorSchema.optional(),
  /** An error caught in a cleanup step (the run still ends FAILED). */
  cleanupError: caughtErrorSchema.optional(),
});
export type PipelineState = z.infer<typeof pipelineStateSchema>;
