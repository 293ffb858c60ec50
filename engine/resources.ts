/**
 * What a Forecast backend holds (type, name, status), as the console's lists show it — for
 * `forecast-pipeline resources` and the fault suite's "nothing left behind" checks. Uses only
 * List and Describe commands, so it works against Amazon Forecast as well as the built-in engine.
 */
import {
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  ListDatasetGroupsCommand,
  ListDatasetImportJobsCommand,
  ListDatasetsCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
  ListPredictorsCommand,
} from '@aws-sdk/client-forecast';
import type { ForecastPort } from '../shared/ports';
import { listAll } from '../shared/steps/common';

export type ListedType = 'dataset-group' | 'dataset' | 'dataset-import-job' | 'predictor' | 'forecast' | 'forecast-export-job';

export interface ListedResource {
  readonly type: ListedType;
  readonly name: string;
  readonly status: string;
  readonly arn: string;
  readonly message?: string;
}

/** Every resource, parents before children. */
export async function listResources(client: ForecastPort): Promise<ListedResource[]> {
  const send = client.send.bind(client) as (command: unknown) => Promise<Record<string, unknown>>;
  const list = <T>(make: (token?: string) => unknown, key: string) =>
    listAll<T>(async (token) => {
      const out = await send(make(token));
      return { items: out[key] as T[] | undefined, next: out.NextToken as string | undefined };
    });
  type Summary = Record<string, string | undefined>;
  const result: ListedResource[] = [];
  const row = (type: ListedType, s: Summary, arnKey: string, nameKey: string, status?: string) =>
    result.push({ type, arn: s[arnKey] ?? '', name: s[nameKey] ?? '', status: status ?? s.Status ?? 'UNKNOWN', ...(s.Message ? { message: s.Message } : {}) });

  for (const g of await list<Summary>((NextToken) => new ListDatasetGroupsCommand({ NextToken }), 'DatasetGroups')) {
    const described = await send(new DescribeDatasetGroupCommand({ DatasetGroupArn: g.DatasetGroupArn }));
    row('dataset-group', g, 'DatasetGroupArn', 'DatasetGroupName', described.Status as string);
  }
  for (const d of await list<Summary>((NextToken) => new ListDatasetsCommand({ NextToken }), 'Datasets')) {
    const described = await send(new DescribeDatasetCommand({ DatasetArn: d.DatasetArn }));
    row('dataset', d, 'DatasetArn', 'DatasetName', described.Status as string);
  }
  for (const j of await list<Summary>((NextToken) => new ListDatasetImportJobsCommand({ NextToken }), 'DatasetImportJobs')) {
    row('dataset-import-job', j, 'DatasetImportJobArn', 'DatasetImportJobName');
  }
  for (const p of await list<Summary>((NextToken) => new ListPredictorsCommand({ NextToken }), 'Predictors')) row('predictor', p, 'PredictorArn', 'PredictorName');
  for (const f of await list<Summary>((NextToken) => new ListForecastsCommand({ NextToken }), 'Forecasts')) row('forecast', f, 'ForecastArn', 'ForecastName');
  for (const e of await list<Summary>((NextToken) => new ListForecastExportJobsCommand({ NextToken }), 'ForecastExportJobs')) {
    row('forecast-export-job', e, 'ForecastExportJobArn', 'ForecastExportJobName');
  }
  return result;
}
