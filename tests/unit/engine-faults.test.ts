import { describe, expect, it } from 'vitest';
import { FaultInjector, parseFaults } from '../../engine/faults';

const PREDICTOR = 'arn:aws:forecast:us-east-1:000000000000:predictor/demo_ETS_1_20240301';
const FORECAST = 'arn:aws:forecast:us-east-1:000000000000:forecast/demo_ETS_1_20240301_forecast';

describe('Function: parseFaults (engineStep rules)', () => {
  it('accepts a rule for a state of the engine-job state machine', () => {
    // Act
    const rules = parseFaults('[{"engineStep":"Fit-Shard","match":"ETS","fault":"killed","times":1}]');

    // Assess
    expect(rules).toEqual([{ engineStep: 'Fit-Shard', match: 'ETS', fault: 'killed', times: 1 }]);
  });

  it('throws naming the rule when "killed" is asked of a step without a process of its own', () => {
    expect(() => parseFaults('[{"engineStep":"Finish","match":"ETS","fault":"killed"}]')).toThrow(/FORECAST_FAULTS\[0\].*engineStep,match,fault/);
  });

  it('throws for an unknown engine step', () => {
    expect(() => parseFaults('[{"engineStep":"Merge","match":"ETS","fault":"crash"}]')).toThrow(/FORECAST_FAULTS\[0\]/);
  });
});

describe('Class: FaultInjector (engineStepFault)', () => {
  it('fires for the jobs whose ARN contains match, the first `times` runs of that step only', () => {
    // Prepare
    const faults = new FaultInjector(parseFaults('[{"engineStep":"Fit-Shard","match":"_forecast","fault":"crash","times":2}]'));

    // Act
    const seen = [faults.engineStepFault('Fit-Shard', PREDICTOR), faults.engineStepFault('Finish', FORECAST), ...[1, 2, 3].map(() => faults.engineStepFault('Fit-Shard', FORECAST))];

    // Assess
    expect(seen).toEqual([undefined, undefined, 'crash', 'crash', undefined]);
  });
});
