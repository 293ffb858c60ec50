/**
 * The three cleanup steps, in the order Forecast requires: export jobs before their forecast,
 * forecasts before predictors (Delete-Forecasts runs first); then the dataset group (its children
 * are predictors, not datasets) and import jobs, then the datasets. Resources are found by name
 * (the input's specs), so a run that failed before a slice was written is cleaned up too; a
 * resource already gone counts as deleted. While anything is still being deleted the step throws
 * ResourcePending.
 */
import {
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DeleteDatasetImportJobCommand,
  DeleteForecastCommand,
  DeleteForecastExportJobCommand,
  DeletePredictorCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  ListDatasetImportJobsCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
  ListPredictorsCommand,
  type Filter,
} from '@aws-sdk/client-forecast';
import type { ForecastPort } from '../ports';
import type { PipelineState } from '../state';
import { deleteResource, filterIs, listAll, requireAllGone, type DeleteProgress } from './common';
import { findDatasetArn } from './create-dataset';
import { findDatasetGroupArn } from './create-dataset-group';

/** What a cleanup step confirmed deleted (or never found). */
export interface DeletedSlice {
  readonly deleted: string[];
}

function groupFilter(state: PipelineState): Filter[] | undefined {
  const arn = state.results.datasetGroup?.arn;
  return arn ? filterIs('DatasetGroupArn', arn) : undefined;
}

/** Deletes every listed job, its status taken from the List* summary; waiting while any of them is. */
async function deleteListed<T extends { Status?: string | undefined }>(
  jobs: readonly T[],
  remove: (job: T) => Promise<unknown>,
): Promise<DeleteProgress> {
  const progress = await Promise.all(jobs.map((job) => deleteResource(async () => job.Status, () => remove(job))));
  return progress.includes('waiting') ? 'waiting' : 'gone';
}

export async function deleteForecasts(state: PipelineState, deps: { forecast: ForecastPort }): Promise<DeletedSlice> {
  const { forecast } = deps;
  const forecasts = await listAll(async (NextToken) => {
    const page = await forecast.send(new ListForecastsCommand({ NextToken, Filters: groupFilter(state) }));
    return { items: page.Forecasts, next: page.NextToken };
  });
  const progress = await Promise.all(
    state.forecasts.map(async (spec): Promise<{ name: string; progress: DeleteProgress }> => {
      const summary = forecasts.find((f) => f.ForecastName === spec.name);
      if (!summary?.ForecastArn) return { name: spec.name, progress: 'gone' };
      const forecastArn = summary.ForecastArn;
      // Export jobs first: a forecast with export jobs is in use.
      const jobs = await listAll(async (NextToken) => {
        const page = await forecast.send(
          new ListForecastExportJobsCommand({ NextToken, Filters: filterIs('ForecastArn', forecastArn) }),
        );
        return { items: page.ForecastExportJobs, next: page.NextToken };
      });
      const jobProgress = await deleteListed(jobs, (job) =>
        forecast.send(new DeleteForecastExportJobCommand({ ForecastExportJobArn: job.ForecastExportJobArn })),
      );
      if (jobProgress === 'waiting') return { name: `${spec.name} (export jobs)`, progress: 'waiting' };
      const progress = await deleteResource(
        async () => summary.Status,
        () => forecast.send(new DeleteForecastCommand({ ForecastArn: forecastArn })),
      );
      return { name: spec.name, progress };
    }),
  );
  requireAllGone('Delete forecasts', progress);
  return { deleted: state.forecasts.map((f) => f.name) };
}

export async function deletePredictors(state: PipelineState, deps: { forecast: ForecastPort }): Promise<DeletedSlice> {
  const { forecast } = deps;
  const predictors = await listAll(async (NextToken) => {
    const page = await forecast.send(new ListPredictorsCommand({ NextToken, Filters: groupFilter(state) }));
    return { items: page.Predictors, next: page.NextToken };
  });
  const progress = await Promise.all(
    state.predictors.map(async (spec) => {
      const summary = predictors.find((p) => p.PredictorName === spec.name);
      if (!summary?.PredictorArn) return { name: spec.name, progress: 'gone' as const };
      const predictorArn = summary.PredictorArn;
      // DeletePredictor deletes AutoPredictors too; in-use (forecasts left) means wait.
      const progress = await deleteResource(
        async () => summary.Status,
        () => forecast.send(new DeletePredictorCommand({ PredictorArn: predictorArn })),
      );
      return { name: spec.name, progress };
    }),
  );
  requireAllGone('Delete predictors', progress);
  return { deleted: state.predictors.map((p) => p.name) };
}

export async function deleteDatasets(state: PipelineState, deps: { forecast: ForecastPort }): Promise<DeletedSlice> {
  const { forecast } = deps;
  const datasets = await Promise.all(
    state.datasets.map(async (spec) => ({
      name: spec.name,
      arn: state.results.datasets?.find((d) => d.name === spec.name)?.arn ?? (await findDatasetArn(forecast, spec.name)),
    })),
  );

  // The group first: its children are predictors (gone by now), not datasets, so Forecast and the
  // built-in engine both delete it while it still holds datasets. A dataset that cannot be deleted
  // then leaves only itself behind.
  const groupName = state.datasetGroup.name;
  const groupArn = state.results.datasetGroup?.arn ?? (await findDatasetGroupArn(forecast, groupName));
  const groupProgress: DeleteProgress = groupArn
    ? await deleteResource(
        async () => (await forecast.send(new DescribeDatasetGroupCommand({ DatasetGroupArn: groupArn }))).Status,
        () => forecast.send(new DeleteDatasetGroupCommand({ DatasetGroupArn: groupArn })),
      )
    : 'gone';
  const group = { name: groupName, progress: groupProgress };

  // Import jobs before their datasets.
  const jobProgress = await Promise.all(
    datasets.map(async ({ name, arn }) => {
      if (!arn) return { name, progress: 'gone' as DeleteProgress };
      const jobs = await listAll(async (NextToken) => {
        const page = await forecast.send(new ListDatasetImportJobsCommand({ NextToken, Filters: filterIs('DatasetArn', arn) }));
        return { items: page.DatasetImportJobs, next: page.NextToken };
      });
      const progress = await deleteListed(jobs, (job) =>
        forecast.send(new DeleteDatasetImportJobCommand({ DatasetImportJobArn: job.DatasetImportJobArn })),
      );
      return { name: `${name} (import jobs)`, progress };
    }),
  );
  requireAllGone('Delete dataset group and import jobs', [group, ...jobProgress]);

  const datasetProgress = await Promise.all(
    datasets.map(async ({ name, arn }) => ({
      name,
      progress: arn
        ? await deleteResource(
            async () => (await forecast.send(new DescribeDatasetCommand({ DatasetArn: arn }))).Status,
            () => forecast.send(new DeleteDatasetCommand({ DatasetArn: arn })),
          )
        : ('gone' as const),
    })),
  );
  requireAllGone('Delete datasets', datasetProgress);
  return { deleted: [...state.datasets.map((d) => d.name), groupName] };
}

