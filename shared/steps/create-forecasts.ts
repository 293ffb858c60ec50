/**
 * Create-Forecasts: one forecast per ACTIVE predictor, then one export job per forecast into
 * the forecast's own folder (`.../exports/<ForecastName>/`). Forecasts of failed predictors
 * are skipped; a failed forecast or export marks that model failed (partial-failure policy).
 */
import {
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
} from '@aws-sdk/client-forecast';
import { InvalidInput } from '../errors';
import type { ForecastPort } from '../ports';
import type { Settings } from '../runtime';
import type { ForecastSpec, PipelineState, Results } from '../state';
import { check, createOrFind, filterIs, findInPages } from './common';
import { attemptModel, progressOf, settle, type ModelProgress } from './models';

export type ForecastsSlice = NonNullable<Results['forecasts']>;
type ForecastEntry = ForecastsSlice[number];

export async function findForecastArn(
  forecast: ForecastPort,
  name: string,
  filter?: { key: 'PredictorArn' | 'DatasetGroupArn'; value: string },
): Promise<string | undefined> {
  const found = await findInPages(
    async (NextToken) => {
      const page = await forecast.send(
        new ListForecastsCommand({ NextToken, Filters: filter ? filterIs(filter.key, filter.value) : undefined }),
      );
      return { items: page.Forecasts, next: page.NextToken };
    },
    (f) => f.ForecastName === name,
  );
  return found?.ForecastArn;
}

export async function findExportJobArn(forecast: ForecastPort, forecastArn: string, name: string): Promise<string | undefined> {
  const found = await findInPages(
    async (NextToken) => {
      const page = await forecast.send(
        new ListForecastExportJobsCommand({ NextToken, Filters: filterIs('ForecastArn', forecastArn) }),
      );
      return { items: page.ForecastExportJobs, next: page.NextToken };
    },
    (j) => j.ForecastExportJobName === name,
  );
  return found?.ForecastExportJobArn;
}

/** Export folders end with `/` so that one forecast's prefix never matches another's. */
export function exportFolder(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

async function forecastAndExport(
  spec: ForecastSpec,
  predictorArn: string,
  forecast: ForecastPort,
  roleArn: string,
): Promise<ModelProgress<ForecastEntry>> {
  const base = { name: spec.name, predictorName: spec.predictorName, model: spec.model, exportS3Uri: exportFolder(spec.exportS3Uri) };
  const arn = await createOrFind(
    `forecast ${spec.name}`,
    async () =>
      (await forecast.send(new CreateForecastCommand({ ForecastName: spec.name, PredictorArn: predictorArn, ForecastTypes: [...spec.forecastTypes] })))
        .ForecastArn,
    () => findForecastArn(forecast, spec.name, { key: 'PredictorArn', value: predictorArn }),
  );
  const described = await forecast.send(new DescribeForecastCommand({ ForecastArn: arn }));
  const forecastChecked = check({ name: spec.name, arn, status: described.Status, message: described.Message });
  if (forecastChecked.outcome !== 'ready') {
    return progressOf(forecastChecked, (status, message) => ({ ...base, arn, exportJobArn: '', status, ...(message ? { message } : {}) }));
  }

  const exportJobArn = await createOrFind(
    `export job ${spec.exportJobName}`,
    async () =>
      (
        await forecast.send(
          new CreateForecastExportJobCommand({
            ForecastExportJobName: spec.exportJobName,
            ForecastArn: arn,
            Destination: { S3Config: { Path: base.exportS3Uri, RoleArn: roleArn } },
            Format: 'CSV',
          }),
        )
      ).ForecastExportJobArn,
    () => findExportJobArn(forecast, arn, spec.exportJobName),
  );
  const exported = await forecast.send(new DescribeForecastExportJobCommand({ ForecastExportJobArn: exportJobArn }));
  return progressOf(
    check({ name: spec.exportJobName, arn: exportJobArn, status: exported.Status, message: exported.Message }),
    (status, message) => ({ ...base, arn, exportJobArn, status, ...(message ? { message } : {}) }),
  );
}

export async function createForecasts(
  state: PipelineState,
  deps: { forecast: ForecastPort; settings: Pick<Settings, 'forecastRoleArn'> },
): Promise<ForecastsSlice> {
  const { forecast, settings } = deps;
  const predictors = state.results.predictors;
  if (!predictors) throw new InvalidInput('results.predictors is missing: Create-Predictors must run first');
  const eligible = state.forecasts.flatMap((spec) => {
    const predictor = predictors.find((p) => p.name === spec.predictorName);
    return predictor?.status === 'ACTIVE' ? [{ spec, predictorArn: predictor.arn }] : [];
  });
  if (eligible.length === 0) throw new InvalidInput('No forecast has an ACTIVE predictor');
  const progress = await Promise.all(
    eligible.map(({ spec, predictorArn }) =>
      attemptModel(
        spec.name,
        () => forecastAndExport(spec, predictorArn, forecast, settings.forecastRoleArn),
        (message) => ({
          name: spec.name,
          predictorName: spec.predictorName,
          model: spec.model,
          arn: '',
          exportJobArn: '',
          exportS3Uri: exportFolder(spec.exportS3Uri),
          status: 'CREATE_FAILED' as const,
          message,
        }),
      ),
    ),
  );
  return settle('Create forecasts', progress);
}
