/**
 * The Forecast service's exceptions as the SDK raises them, for the engine's command handlers
 * (InvalidInputException comes from validation.ts beside the checks that raise it).
 */
import {
  ForecastServiceException,
  LimitExceededException,
  ResourceAlreadyExistsException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-forecast';

export const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });
export const inUse = (message: string) => new ResourceInUseException({ message, $metadata: {} });
export const exists = (message: string) => new ResourceAlreadyExistsException({ message, $metadata: {} });
export const limit = (message: string) => new LimitExceededException({ message, $metadata: {} });

/** `ThrottlingException` as the SDK raises it (no modelled class: a service exception with that name). */
export function throttling(operation: string): ForecastServiceException {
  const error = new ForecastServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Rate exceeded (${operation}, injected by FORECAST_FAULTS)`,
  });
  error.$retryable = { throttling: true };
  return error;
}
