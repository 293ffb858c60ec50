/**
 * The Forecast port: exactly the SDK client's `send(command)`. The Amazon adapter is a
 * real `ForecastClient`; the built-in engine (engine/) implements the same method with
 * the same command classes, output shapes and exception classes.
 */
import type { ForecastClient } from '@aws-sdk/client-forecast';

export type ForecastPort = Pick<ForecastClient, 'send'>;
