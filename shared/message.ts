/**
 * The message contract: what a user pushes into SQS (or pastes into the Lambda console) to start
 * a forecast run. Every violation is reported with the field's path and the value received, and
 * unknown fields are rejected (a typo such as `ForcastHorizon` must not silently fall back to a default).
 */
import { z } from 'zod';
import { InvalidInput } from './errors';
import { isFrequency, isDateOnly, parseFrequency } from './frequency';
import { MAX_DATA_NAME, RESOURCE_NAME_PATTERN } from './names';
import { forecastTypeSchema, MODELS, modelSchema, type Model } from './state';
import { TIMESTAMP_FORMATS, parseCompactDate } from './time';
import { TUNABLE_ALGORITHMS, trainingParameterProblems } from './training-parameters';

/** The models a run trains when the message names none: the four the built-in engine and Amazon Forecast both run. */
export const DEFAULT_MODELS: readonly Model[] = ['ETS', 'ARIMA', 'NPTS', 'PROPHET'];
/** The seed's forecast types. */
export const DEFAULT_FORECAST_TYPES: readonly string[] = ['0.50', '0.80', '0.90', '0.95', '0.99'];

/** Forecast hyperparameter names (`context_length`, `kernel_type`, `epochs`): never `__proto__` or an injection. */
const HYPERPARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** The models HPO applies to (Forecast: DeepAR+ and CNN-QR only). */
export const HPO_MODELS: readonly Model[] = ['CNNQR', 'DEEPARP'];
/** The models that take no TrainingParameters: they choose and tune their algorithms themselves. */
const SELF_TUNING_MODELS: readonly Model[] = ['AUTOML', 'AUTOPREDICTOR'];

/** Per-model settings that replace the message-wide ones for that model only (seed TODO 2 and 5). */
export const modelOverrideSchema = z
  .object({
    NumberOfBacktestWindows: z.number().int().min(1).max(5).optional(),
    /** Fixed hyperparameters (Forecast `TrainingParameters`, string values); HPO is switched off when given. */
    TrainingParameters: z
      .record(
        z.string().regex(HYPERPARAMETER_NAME, 'a hyperparameter name is letters, digits and _ (a letter first)'),
        z.union([z.string(), z.number(), z.boolean()]).transform(String),
      )
      .optional(),
    /** Force HPO on or off (CNNQR and DEEPARP only, rejected as true elsewhere); default on for those two unless TrainingParameters are given. */
    PerformHPO: z.boolean().optional(),
  })
  .strict();
export type ModelOverride = z.infer<typeof modelOverrideSchema>;

export const messageParamSchema = z
  .object({
    DataName: z
      .string()
      .min(1)
      .max(MAX_DATA_NAME, `must be at most ${MAX_DATA_NAME} characters`)
      .regex(RESOURCE_NAME_PATTERN, 'must match ^[a-zA-Z][a-zA-Z0-9_]*$ (a letter, then letters, digits or _)'),
    ForecastHorizon: z.number().int('must be a whole number').min(1).max(500),
    NumberOfBacktestWindows: z.number().int('must be a whole number').min(1).max(5).default(1),
    PerformDelete: z.boolean().default(true),
    dateCreate: z
      .string()
      .regex(/^\d{8}$/, 'must be YYYYMMDD')
      .refine((text) => {
        try {
          parseCompactDate(text);
          return true;
        } catch {
          return false;
        }
      }, 'must be a real calendar date (YYYYMMDD)'),
    ForecastFrequency: z
      .string()
      .refine(isFrequency, 'must be a Forecast frequency such as D, W, M, Y, H, 15min, 2W, 3M')
      .transform((text) => parseFrequency(text).text)
      .default('D'),
    Models: z
      .array(modelSchema, { error: `each model must be one of ${MODELS.join(', ')}` })
      .min(1)
      .refine((models) => new Set(models).size === models.length, 'must not name a model twice')
      .default([...DEFAULT_MODELS]),
    ForecastTypes: z
      .array(forecastTypeSchema)
      .min(1)
      .max(5)
      .refine((types) => new Set(types.map((t) => (t === 'mean' ? t : String(Number(t))))).size === types.length, 'must not repeat a forecast type')
      .default([...DEFAULT_FORECAST_TYPES]),
    ModelOverrides: z.partialRecord(modelSchema, modelOverrideSchema).optional(),
    TimestampFormat: z.enum(TIMESTAMP_FORMATS).optional(),
    /**
     * The target may be negative (a balance, a net flow): negative values are kept instead of
     * forward-filled, the run uses no log transform, and forecasts are not floored at zero.
     */
    AllowNegative: z.boolean().default(false),
  })
  .strict()
  .superRefine((param, ctx) => {
    for (const [model, override] of Object.entries(param.ModelOverrides ?? {}) as [Model, ModelOverride][]) {
      if (!param.Models.includes(model)) {
        ctx.addIssue({ code: 'custom', path: ['ModelOverrides', model], input: model, message: `overrides a model that is not in Models (${param.Models.join(', ')})` });
      }
      if (override.PerformHPO === true && !HPO_MODELS.includes(model)) {
        ctx.addIssue({ code: 'custom', path: ['ModelOverrides', model, 'PerformHPO'], input: true, message: `HPO applies only to ${HPO_MODELS.join(' and ')}, not ${model}` });
      }
      const params = override.TrainingParameters ?? {};
      if (SELF_TUNING_MODELS.includes(model) && Object.keys(params).length > 0) {
        ctx.addIssue({ code: 'custom', path: ['ModelOverrides', model, 'TrainingParameters'], input: params, message: `${model} takes no TrainingParameters (it chooses its algorithms itself)` });
      }
      if ((TUNABLE_ALGORITHMS as readonly string[]).includes(model)) {
        for (const problem of trainingParameterProblems(model, params)) {
          ctx.addIssue({ code: 'custom', path: ['ModelOverrides', model, 'TrainingParameters', problem.key], input: params[problem.key], message: problem.rule });
        }
      }
    }
    if (param.TimestampFormat === 'yyyy-MM-dd' && !isDateOnly(parseFrequency(param.ForecastFrequency))) {
      ctx.addIssue({
        code: 'custom',
        path: ['TimestampFormat'],
        input: param.TimestampFormat,
        message: `yyyy-MM-dd cannot carry the time of day that frequency ${param.ForecastFrequency} needs; use yyyy-MM-dd HH:mm:ss`,
      });
    }
  });

export type MessageParam = z.infer<typeof messageParamSchema>;

export const messageSchema = z.object({ param: messageParamSchema }).strict();
export type Message = z.infer<typeof messageSchema>;

const MAX_SHOWN = 80;

/** A received value, short enough for an error message and a log line. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    // JSON.stringify and String both recurse: a value nested thousands deep overflows the stack.
    try {
      text = String(value);
    } catch {
      text = Array.isArray(value) ? '[…]' : typeof value === 'object' && value !== null ? '{…}' : typeof value;
    }
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || '(message)';
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (not part of the message contract)`;
  }
  const received = 'input' in issue ? issue.input : undefined;
  const message =
    issue.code === 'invalid_type'
      ? received === undefined
        ? 'is required'
        : `must be ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}`
      : issue.code === 'invalid_value'
        ? `must be one of ${issue.values.map((v) => String(v)).join(', ')}`
        : issue.message;
  return `${path}: ${message}, received ${showValue(received)}`;
}

/** zod issues as `field: rule, received value` lines. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map(describeIssue);
}

/** Keys JavaScript gives a meaning of its own: zod drops `__proto__` from records without a word. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** No field of the message nests deeper than this; deeper values are rejected by the schema anyway. */
const MAX_KEY_DEPTH = 8;

/** `path: reserved key` for every own key of an object in the message that JavaScript treats specially. */
function reservedKeyIssues(value: unknown, path: string, depth = 0): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth > MAX_KEY_DEPTH) return [];
  const issues: string[] = [];
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (RESERVED_KEYS.has(key)) issues.push(`${at}: a reserved key, never a model, field or hyperparameter name`);
    else issues.push(...reservedKeyIssues((value as Record<string, unknown>)[key], at, depth + 1));
  }
  return issues;
}

/** Validates `{ param: … }`; throws InvalidInput whose message lists every violation. */
export function parseMessage(value: unknown): Message {
  const result = messageSchema.safeParse(value, { reportInput: true });
  const reserved = reservedKeyIssues(value, '');
  if (!result.success || reserved.length > 0) {
    const issues = [...reserved, ...(result.success ? [] : describeIssues(result.error))];
    throw new InvalidInput(`Invalid message: ${issues.join('; ')}`, issues);
  }
  return result.data;
}

/** Parses a JSON message body (an SQS record body, or a console body given as a string). */
export function parseMessageBody(body: string): Message {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new InvalidInput(`Invalid message: body is not JSON (${(error as Error).message}), received ${showValue(body)}`, ['body: not JSON']);
  }
  return parseMessage(value);
}

/**
 * A console invocation: `{"body": {"param": …}}`, `{"body": "<json>"}` or `{"param": …}`.
 * (SQS events, with `Records`, are handled record by record by the caller.)
 */
export function parseConsoleEvent(event: unknown): Message {
  if (event !== null && typeof event === 'object' && !Array.isArray(event) && 'body' in event) {
    const keys = Object.keys(event);
    if (keys.length !== 1) {
      const extra = keys.filter((k) => k !== 'body');
      throw new InvalidInput(`Invalid message: unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')} next to body`, extra);
    }
    const body = (event as { body: unknown }).body;
    return typeof body === 'string' ? parseMessageBody(body) : parseMessage(body);
  }
  if (typeof event === 'string') return parseMessageBody(event);
  return parseMessage(event);
}
