/**
 * Step-crash faults for the local runner (issue 6): `FORECAST_FAULTS` is a JSON array of rules;
 * the rules with a `step` field are the runner's (the others belong to the engine's
 * engine/faults.ts and are ignored here). `{"step":"notify","crash":"midway","times":1}` makes the
 * Task wrapper run the notify handler and then throw instead of returning its result — the work
 * is done, the state is not advanced, and the workflow's Retry runs the step again, as after a
 * Lambda that died before answering.
 */
import { isStepFault, parseFaults, type StepFault } from '../engine/faults';

/**
 * A step rule: `crash` is `before` (dies before the handler runs), `midway` (after the handler did
 * its work, before it answers) or `after` (the answer was lost: same effect on the workflow);
 * `times` counts the first N invocations of that step per process (omitted = every one).
 */
export type StepCrashRule = StepFault;

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

/** The step-crash rules of a `FORECAST_FAULTS` value, parsed by the engine's one rule parser (which rejects malformed rules). */
export function parseStepCrashRules(text: string | undefined): StepCrashRule[] {
  return parseFaults(text).filter(isStepFault);
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
