/** Create-Import-Jobs: one dataset import job per dataset, reading the CSV parse wrote. */
import {
  CreateDatasetImportJobCommand,
  DescribeDatasetImportJobCommand,
  ListDatasetImportJobsCommand,
} from '@aws-sdk/client-forecast';
import { InvalidInput } from '../errors';
import type { ForecastPort } from '../ports';
import type { Settings } from '../runtime';
import type { PipelineState, Results } from '../state';
import { check, createOrFind, filterIs, findInPages, requireAllReady } from './common';

export type ImportJobsSlice = NonNullable<Results['importJobs']>;

export async function findImportJobArn(
  forecast: ForecastPort,
  datasetArn: string,
  name: string,
): Promise<string | undefined> {
  const found = await findInPages(
    async (NextToken) => {
      const page = await forecast.send(
        new ListDatasetImportJobsCommand({ NextToken, Filters: filterIs('DatasetArn', datasetArn) }),
      );
      return { items: page.DatasetImportJobs, next: page.NextToken };
    },
    (j) => j.DatasetImportJobName === name,
  );
  return found?.DatasetImportJobArn;
}

export async function createImportJobs(
  state: PipelineState,
  deps: { forecast: ForecastPort; settings: Pick<Settings, 'forecastRoleArn'> },
): Promise<ImportJobsSlice> {
  const { forecast, settings } = deps;
  const datasets = state.results.datasets ?? [];
  const jobs = await Promise.all(
    state.datasets.map(async (spec) => {
      const datasetArn = datasets.find((d) => d.name === spec.name)?.arn;
      if (!datasetArn) throw new InvalidInput(`results.datasets has no ARN for dataset ${spec.name}`);
      const arn = await createOrFind(
        `import job ${spec.importJobName}`,
        async () =>
          (
            await forecast.send(
              new CreateDatasetImportJobCommand({
                DatasetImportJobName: spec.importJobName,
                DatasetArn: datasetArn,
                DataSource: { S3Config: { Path: spec.s3Uri, RoleArn: settings.forecastRoleArn } },
                TimestampFormat: spec.timestampFormat,
              }),
            )
          ).DatasetImportJobArn,
        () => findImportJobArn(forecast, datasetArn, spec.importJobName),
      );
      const described = await forecast.send(new DescribeDatasetImportJobCommand({ DatasetImportJobArn: arn }));
      return {
        slice: { datasetName: spec.name, name: spec.importJobName, arn },
        checked: check({ name: spec.importJobName, arn, status: described.Status, message: described.Message }),
      };
    }),
  );
  // The data is shared by every model: a failed import fails the run.
  requireAllReady('Import data', jobs.map((j) => j.checked));
  return jobs.map((j) => j.slice);
}
