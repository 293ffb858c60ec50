/**
 * Fault injection (issue 6), driven by the `FORECAST_FAULTS` environment variable: a JSON array of rules.
 *
 * - `{"operation":"CreatePredictor","error":"LimitExceededException","times":2}` — the first `times` calls of
 *   that API operation (in this process) throw that SDK exception (`ThrottlingException` too).
 * - `{"resource":"predictor","match":"ARIMA","status":"CREATE_FAILED"}` — resources of that type whose name
 *   contains `match` end in CREATE_FAILED with a message saying the fault was injected.
 * - `{"step":"notify","crash":"midway","times":1}` — parsed here, acted on by the local runner.
 * - `{"engineStep":"Fit-Shard","match":"ETS","fault":"crash","times":1}` — with the workflow executor
 *   (FORECAST_ENGINE_EXECUTOR=workflow), that state of statemachine/engine-job.asl.json fails for the
 *   jobs whose ARN contains `match`: `crash` — the step fails (a Lambda function error; a shard's
 *   process reports it and exits 1); `killed` (Fit-Shard only) — the shard's process is killed
 *   (SIGKILL), as a Lambda sandbox that dies. Acted on by local/engine-job-workflow.ts.
 *
 * `times` is counted per process (a counter in memory): a fresh process starts counting again.
 * Omitting `times` on an operation rule means "every call".
 */
import { z } from 'zod';
import { ConfigurationError } from '../shared/errors';

export const FAULT_ERRORS = ['LimitExceededException', 'ThrottlingException', 'ResourceInUseException', 'InvalidInputException'] as const;
export const FAULT_RESOURCES = ['datasetImportJob', 'predictor', 'forecast', 'forecastExportJob'] as const;

const OperationFault = z
  .object({
    operation: z.string().regex(/^[A-Z][A-Za-z]+$/, 'an API operation name such as CreatePredictor'),
    error: z.enum(FAULT_ERRORS),
    times: z.number().int().positive().optional(),
  })
  .strict();

const ResourceFault = z
  .object({
    resource: z.enum(FAULT_RESOURCES),
    match: z.string().min(1),
    status: z.literal('CREATE_FAILED'),
    message: z.string().optional(),
  })
  .strict();

const StepFault = z
  .object({
    step: z.string().min(1),
    crash: z.enum(['midway', 'before', 'after']),
    times: z.number().int().positive().optional(),
  })
  .strict();

export const ENGINE_FAULT_STEPS = ['Plan', 'Fit-Shard', 'Finish'] as const;

/** Set in a shard process's environment by an injected `crash`: it fails after its work, without answering. */
export const SHARD_CRASH_ENV = 'FORECAST_ENGINE_SHARD_CRASH';

const EngineStepFault = z
  .object({
    engineStep: z.enum(ENGINE_FAULT_STEPS),
    match: z.string().min(1),
    fault: z.enum(['crash', 'killed']),
    times: z.number().int().positive().optional(),
  })
  .strict()
  .refine((rule) => rule.fault !== 'killed' || rule.engineStep === 'Fit-Shard', { message: 'fault "killed" applies to Fit-Shard only (the step with a process of its own)' });

export const FaultRule = z.union([OperationFault, ResourceFault, StepFault, EngineStepFault]);
export type FaultRule = z.infer<typeof FaultRule>;
export type OperationFault = z.infer<typeof OperationFault>;
export type ResourceFault = z.infer<typeof ResourceFault>;
export type StepFault = z.infer<typeof StepFault>;
export type EngineStepFault = z.infer<typeof EngineStepFault>;
export type FaultResource = (typeof FAULT_RESOURCES)[number];

/** Parses `FORECAST_FAULTS`; empty/unset → no rules. Throws ConfigurationError naming the rule and field. */
export function parseFaults(text: string | undefined): FaultRule[] {
  if (text === undefined || text.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`FORECAST_FAULTS is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(json)) throw new ConfigurationError('FORECAST_FAULTS must be a JSON array of rules');
  return json.map((rule, index) => {
    const parsed = FaultRule.safeParse(rule);
    if (!parsed.success) {
      throw new ConfigurationError(
        `FORECAST_FAULTS[${index}] ${JSON.stringify(rule)} is not a fault rule: expected {operation,error,times?}, ` +
          `{resource,match,status:"CREATE_FAILED"}, {step,crash,times?} or {engineStep,match,fault,times?}`,
      );
    }
    return parsed.data;
  });
}

export function isOperationFault(rule: FaultRule): rule is OperationFault {
  return 'operation' in rule;
}
export function isResourceFault(rule: FaultRule): rule is ResourceFault {
  return 'resource' in rule;
}
export function isStepFault(rule: FaultRule): rule is StepFault {
  return 'step' in rule;
}
export function isEngineStepFault(rule: FaultRule): rule is EngineStepFault {
  return 'engineStep' in rule;
}

/** Per-process fault state: counts how often each rule fired. */
export class FaultInjector {
  private readonly fired = new Map<FaultRule, number>();

  constructor(readonly rules: readonly FaultRule[]) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): FaultInjector {
    return new FaultInjector(parseFaults(env.FORECAST_FAULTS));
  }

  /** The error name to throw for this call of `operation`, if a rule still has calls left. */
  operationError(operation: string): OperationFault['error'] | undefined {
    for (const rule of this.rules) {
      if (!isOperationFault(rule) || rule.operation !== operation) continue;
      if (this.take(rule, rule.times)) return rule.error;
    }
    return undefined;
  }

  /** The failure message for a resource of `type` named `name`, if a rule makes it fail. */
  resourceFailure(type: FaultResource, name: string): string | undefined {
    const rule = this.rules.filter(isResourceFault).find((r) => r.resource === type && name.includes(r.match));
    return rule ? (rule.message ?? `Injected fault: ${type} names containing "${rule.match}" fail (FORECAST_FAULTS)`) : undefined;
  }

  /** Whether step `step` should crash at `point` on this run (consumes one of the rule's `times`). */
  stepCrash(step: string, point: StepFault['crash'] = 'midway'): boolean {
    for (const rule of this.rules) {
      if (!isStepFault(rule) || rule.step !== step || rule.crash !== point) continue;
      if (this.take(rule, rule.times)) return true;
    }
    return false;
  }

  /** How this run of engine-job state `step` for job `jobArn` must fail, if a rule says so (consumes one of its `times`). */
  engineStepFault(step: EngineStepFault['engineStep'], jobArn: string): EngineStepFault['fault'] | undefined {
    for (const rule of this.rules) {
      if (!isEngineStepFault(rule) || rule.engineStep !== step || !jobArn.includes(rule.match)) continue;
      if (this.take(rule, rule.times)) return rule.fault;
    }
    return undefined;
  }

  private take(rule: FaultRule, times: number | undefined): boolean {
    const count = this.fired.get(rule) ?? 0;
    if (times !== undefined && count >= times) return false;
    this.fired.set(rule, count + 1);
    return true;
  }
}
