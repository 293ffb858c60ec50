/**
 * Step-crash faults for the local runner (issue 6): `FORECAST_FAULTS` is a JSON array of rules;
 * the rules with a `step` field are the runner's (the others belong to the engine's
 * engine/faults.ts and are ignored here). `{"step":"notify","crash":"midway","times":1}` makes the
 * Task wrapper run the notify handler and then throw instead of returning its result — the work
 * is done, the state is not advanced, and the workflow's Retry runs the step again, as after a
 * Lambda that died before answering.
 */
import { z } from 'zod';
import { ConfigurationError } from '../shared/errors';

export const stepCrashRuleSchema = z.object({
  /** The step: its handler folder (`notify` for lambdas/notify/) or its state name. */
  step: z.string().min(1),
  /**
   * `before`: dies before the handler runs; `midway`: after the handler did its work, before it
   * answers; `after`: the handler answered but the answer was lost (same effect on the workflow).
   */
  crash: z.enum(['before', 'midway', 'after']),
  /** How many invocations crash (the first N of that step, per process); omitted = every one. */
  times: z.number().int().positive().optional(),
}).strict();
export type StepCrashRule = z.infer<typeof stepCrashRuleSchema>;

export const STEP_CRASH_ERROR = 'Lambda.Unknown';

/** The error a crashed step reports to the state machine (its `name` is what Retry matches). */
export class StepCrashed extends Error {
  /** What Step Functions reports for a Lambda whose runtime died before answering. */
  override readonly name = STEP_CRASH_ERROR;
  constructor(
    readonly step: string,
    readonly when: StepCrashRule['crash'],
  ) {
    super(`Injected fault (FORECAST_FAULTS): step ${step} crashed ${when === 'before' ? 'before doing its work' : 'after doing its work, before answering'}`);
  }
}

/** The step-crash rules of a `FORECAST_FAULTS` value (others are ignored); throws on malformed JSON or rules. */
export function parseStepCrashRules(text: string | undefined): StepCrashRule[] {
  if (text === undefined || text.trim() === '') return [];
  let rules: unknown;
  try {
    rules = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`FORECAST_FAULTS is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(rules)) throw new ConfigurationError('FORECAST_FAULTS must be a JSON array of rules');
  const found: StepCrashRule[] = [];
  rules.forEach((rule, index) => {
    if (!rule || typeof rule !== 'object' || !('step' in rule)) return;
    const parsed = stepCrashRuleSchema.safeParse(rule);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(rule)'}: ${i.message}`).join('; ');
      throw new ConfigurationError(`FORECAST_FAULTS[${index}] is not a valid step rule: ${issues}`);
    }
    found.push(parsed.data);
  });
  return found;
}

/** Counts invocations per rule and tells when one must crash. */
export class StepCrashInjector {
  private readonly used: number[];

  constructor(private readonly rules: readonly StepCrashRule[]) {
    this.used = rules.map(() => 0);
  }

  /** The rule that fires for this invocation of the step at this point, if any (and counts it). */
  take(step: string, stateName: string, when: StepCrashRule['crash']): StepCrashRule | undefined {
    for (const [index, rule] of this.rules.entries()) {
      if (rule.crash !== when || (rule.step !== step && rule.step !== stateName)) continue;
      if (rule.times !== undefined && this.used[index]! >= rule.times) continue;
      this.used[index]! += 1;
      return rule;
    }
    return undefined;
  }
}
