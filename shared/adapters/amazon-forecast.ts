// Placeholder until the Amazon Forecast adapter lands (issue 2); the signature is the contract.
import { NotImplemented } from '../errors';
import type { ForecastPort } from '../ports/forecast';

export function createAmazonForecast(): ForecastPort {
  throw new NotImplemented('The Amazon Forecast adapter is not implemented yet');
}
