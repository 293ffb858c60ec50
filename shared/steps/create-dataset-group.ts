/** Create-Dataset-Group: the group holding this run's datasets (domain CUSTOM). */
import {
  CreateDatasetGroupCommand,
  DescribeDatasetGroupCommand,
  ListDatasetGroupsCommand,
  UpdateDatasetGroupCommand,
} from '@aws-sdk/client-forecast';
import { InvalidInput } from '../errors';
import type { ForecastPort } from '../ports';
import type { PipelineState, Results } from '../state';
import { check, createOrFind, findInPages, requireAllReady } from './common';

export type DatasetGroupSlice = NonNullable<Results['datasetGroup']>;

export async function findDatasetGroupArn(forecast: ForecastPort, name: string): Promise<string | undefined> {
  const found = await findInPages(
    async (NextToken) => {
      const page = await forecast.send(new ListDatasetGroupsCommand({ NextToken }));
      return { items: page.DatasetGroups, next: page.NextToken };
    },
    (g) => g.DatasetGroupName === name,
  );
  return found?.DatasetGroupArn;
}

export async function createDatasetGroup(
  state: PipelineState,
  deps: { forecast: ForecastPort },
): Promise<DatasetGroupSlice> {
  const { forecast } = deps;
  const datasetArns = (state.results.datasets ?? []).map((d) => d.arn);
  if (datasetArns.length === 0) throw new InvalidInput('results.datasets is empty: Create-Dataset must run first');
  const name = state.datasetGroup.name;
  const arn = await createOrFind(
    `dataset group ${name}`,
    async () =>
      (
        await forecast.send(
          new CreateDatasetGroupCommand({ DatasetGroupName: name, Domain: state.datasetGroup.domain, DatasetArns: datasetArns }),
        )
      ).DatasetGroupArn,
    () => findDatasetGroupArn(forecast, name),
  );
  let described = await forecast.send(new DescribeDatasetGroupCommand({ DatasetGroupArn: arn }));
  // A group found after a redelivery may predate some of the datasets: attach them.
  const attached = new Set(described.DatasetArns ?? []);
  if (datasetArns.some((d) => !attached.has(d)) && described.Status === 'ACTIVE') {
    await forecast.send(new UpdateDatasetGroupCommand({ DatasetGroupArn: arn, DatasetArns: datasetArns }));
    described = await forecast.send(new DescribeDatasetGroupCommand({ DatasetGroupArn: arn }));
  }
  requireAllReady('Create dataset group', [check({ name, arn, status: described.Status })]);
  return { name, arn };
}
