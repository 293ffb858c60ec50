/** Create-Dataset: one Forecast dataset per dataset spec (target, related). */
import { CreateDatasetCommand, DescribeDatasetCommand, ListDatasetsCommand } from '@aws-sdk/client-forecast';
import type { ForecastPort } from '../ports';
import type { PipelineState, Results } from '../state';
import { check, createOrFind, findInPages, requireAllReady } from './common';

export type DatasetsSlice = NonNullable<Results['datasets']>;

/** Finds a dataset's ARN by name (datasets cannot be filtered server-side). */
export async function findDatasetArn(forecast: ForecastPort, name: string): Promise<string | undefined> {
  const found = await findInPages(
    async (NextToken) => {
      const page = await forecast.send(new ListDatasetsCommand({ NextToken }));
      return { items: page.Datasets, next: page.NextToken };
    },
    (d) => d.DatasetName === name,
  );
  return found?.DatasetArn;
}

export async function createDatasets(state: PipelineState, deps: { forecast: ForecastPort }): Promise<DatasetsSlice> {
  const { forecast } = deps;
  const created = await Promise.all(
    state.datasets.map(async (spec) => {
      const arn = await createOrFind(
        `dataset ${spec.name}`,
        async () =>
          (
            await forecast.send(
              new CreateDatasetCommand({
                DatasetName: spec.name,
                Domain: spec.domain,
                DatasetType: spec.datasetType,
                DataFrequency: spec.dataFrequency,
                Schema: { Attributes: spec.schema.Attributes },
              }),
            )
          ).DatasetArn,
        () => findDatasetArn(forecast, spec.name),
      );
      const described = await forecast.send(new DescribeDatasetCommand({ DatasetArn: arn }));
      return { spec, arn, checked: check({ name: spec.name, arn, status: described.Status }) };
    }),
  );
  // Every dataset is checked (the seed looked only at the last one).
  requireAllReady('Create datasets', created.map((c) => c.checked));
  return created.map(({ spec, arn }) => ({ kind: spec.kind, name: spec.name, arn }));
}
