/**
 * The Amazon Forecast adapter: a real ForecastClient, created once per container (on first
 * use, never at import time). Throttling and transient errors are retried by the SDK with
 * adaptive backoff; quota errors (LimitExceededException) surface to the state machine,
 * whose Retry waits minutes between attempts.
 */
import { ForecastClient } from '@aws-sdk/client-forecast';
import type { ForecastPort } from '../ports/forecast';
import { traced } from '../observability';

let client: ForecastClient | undefined;

export function createAmazonForecast(): ForecastPort {
  client ??= traced(new ForecastClient({ maxAttempts: 6, retryMode: 'adaptive' }));
  return client;
}
