// Placeholder until the built-in engine lands (issue 4); the signature is the contract.
import { NotImplemented } from '../shared/errors';
import type { ForecastPort, ObjectStore } from '../shared/ports';

export interface BuiltinForecastOptions {
  /** Where the engine keeps its resources and trained models. */
  readonly store: ObjectStore;
  /** `s3://bucket/prefix` under which the engine's state lives in that store. */
  readonly stateUri: string;
}

export function createBuiltinForecast(_options: BuiltinForecastOptions): ForecastPort {
  throw new NotImplemented('The built-in forecasting engine is not implemented yet');
}
