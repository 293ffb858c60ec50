/**
 * Structured logging, metrics and tracing with Powertools. Accuracy metrics are CloudWatch EMF
 * lines written to the function's log (no PutMetricData call, no extra IAM): namespace
 * FORECAST, dimension Algorithm (and Quantile for wQL), as the seed posted them — and nothing else
 * (no Powertools `service` dimension). Tracing is X-Ray (template.yaml `Tracing: Active`): one
 * subsegment per step invocation and one per AWS SDK call of the clients passed through `traced`;
 * outside Lambda the Tracer is off (no-op).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { describeError } from './errors';
import type { AccuracyMetrics } from './state';

export const SERVICE_NAME = 'forecast-pipeline';
export const METRICS_NAMESPACE = 'FORECAST';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** An AWS SDK v3 client whose calls become X-Ray subsegments (unchanged when tracing is off). */
export function traced<Client>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

/**
 * Emits one EMF metric set per algorithm: `RMSE`, `WAPE`, `AverageWQL` with dimension
 * Algorithm, and `WQL` per quantile with dimensions Algorithm + Quantile.
 */
export function publishAccuracyMetrics(algorithm: string, accuracy: AccuracyMetrics, sink: Metrics = metrics): void {
  // A single metric is flushed as soon as it is added, with exactly its own dimensions.
  const emit = (name: string, value: number | null, dimensions: Record<string, string>) => {
    if (value === null || !Number.isFinite(value)) return;
    const single = sink.singleMetric();
    // Powertools gives every metric a `service` default dimension; the documented (and alarmed-on)
    // sets are exactly [Algorithm] and [Algorithm, Quantile].
    single.clearDefaultDimensions();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.NoUnit, value);
  };
  emit('RMSE', accuracy.rmse, { Algorithm: algorithm });
  emit('WAPE', accuracy.wape, { Algorithm: algorithm });
  emit('AverageWQL', accuracy.averageWeightedQuantileLoss, { Algorithm: algorithm });
  for (const [quantile, loss] of Object.entries(accuracy.weightedQuantileLosses)) {
    emit('WQL', loss, { Algorithm: algorithm, Quantile: quantile });
  }
}

/**
 * Wraps a step handler: request context in every log line, one line per failure with the
 * error name (the ASL contract) and message, then rethrows unchanged; traced as the
 * subsegment `## <step>` with the step and cold start as annotations.
 */
export function withObservability<E, R>(
  step: string,
  handle: (event: E, context?: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    logger.appendKeys({ step });
    const segment = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    const subsegment = segment?.addNewSubsegment(`## ${step}`);
    if (subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      tracer.putAnnotation('step', step);
    }
    try {
      return await handle(event, context);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (subsegment) tracer.addErrorAsMetadata(error as Error);
      // Pending is the normal way to wait for Forecast: not an error worth alarming on.
      if (name === 'ResourcePending') logger.info('Waiting', { reason: describeError(error) });
      else logger.error('Step failed', { errorName: name, reason: describeError(error) });
      throw error;
    } finally {
      if (subsegment) {
        subsegment.close();
        tracer.setSegment(segment!);
      }
    }
  };
}
