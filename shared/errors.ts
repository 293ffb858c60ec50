/**
 * The one error module. Error *names* are the contract with the state machine:
 * `ErrorEquals` in statemachine/forecast.asl.json matches `error.name`, so every
 * class sets `this.name` to a string literal (which survives minification).
 */

/** Base class: every error this project raises on purpose. */
export abstract class PipelineError extends Error {
  abstract override readonly name: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A Forecast resource is still being created or deleted: Step Functions retries the step. */
export class ResourcePending extends PipelineError {
  override readonly name = 'ResourcePending' as const;
  constructor(
    message: string,
    readonly resources: readonly string[] = [],
  ) {
    super(message);
  }
}

/** A Forecast resource ended in a failed state: the workflow goes to its Failure step. */
export class ResourceFailed extends PipelineError {
  override readonly name = 'ResourceFailed' as const;
  constructor(
    message: string,
    readonly resources: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An input (message, event, configuration, data) breaks a rule. Never retried. */
export class InvalidInput extends PipelineError {
  override readonly name = 'InvalidInput' as const;
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A configuration value the process needs is missing or malformed (env read at cold start). */
export class ConfigurationError extends PipelineError {
  override readonly name = 'ConfigurationError' as const;
}

/** A feature that exists in the API shape but is not implemented by this backend. */
export class NotImplemented extends PipelineError {
  override readonly name = 'NotImplemented' as const;
}

/**
 * Another attempt of the run is still running and this message asks for something else (a corrected
 * message): parse starts nothing and writes nothing; SQS delivers it again later (FIFO: the messages
 * of the DataName wait behind it), and it becomes the next attempt once the running one has ended.
 */
export class AttemptInProgress extends PipelineError {
  override readonly name = 'AttemptInProgress' as const;
}

/** Error names the ASL refers to; tests check the ASL uses exactly these. */
export const ASL_ERROR_NAMES = ['ResourcePending', 'ResourceFailed', 'InvalidInput'] as const;
export type AslErrorName = (typeof ASL_ERROR_NAMES)[number];

/** Message of any thrown value, for logs and failure records. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
