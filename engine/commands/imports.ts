/** Dataset import jobs: a CSV under S3 read into the engine's series data. */
import {
  CreateDatasetImportJobCommand,
  DeleteDatasetImportJobCommand,
  DescribeDatasetImportJobCommand,
  ListDatasetImportJobsCommand,
} from '@aws-sdk/client-forecast';
import { IN_PROGRESS, type ResourceDoc } from '../repository';
import { inUse } from '../service-errors';
import { checkName, checkS3Path, invalid } from '../validation';
import type { CommandContext, CommandHandler } from './command';
import { applyFilters, page, statusOf, times } from './listing';

const importShape = (d: ResourceDoc) => ({
  DatasetImportJobArn: d.arn,
  DatasetImportJobName: d.name,
  DataSource: d.request.DataSource,
  ...statusOf(d),
  ...times(d),
  ImportMode: d.request.ImportMode ?? 'FULL',
});

export function importCommands({ resources }: CommandContext): CommandHandler[] {
  return [
    {
      command: CreateDatasetImportJobCommand,
      operation: 'CreateDatasetImportJob',
      handle: async (input) => {
        const name = checkName('DatasetImportJobName', input.DatasetImportJobName);
        const dataset = await resources.mustRead(input.DatasetArn, 'dataset', 'DatasetArn');
        checkS3Path('DataSource.S3Config.Path', input.DataSource?.S3Config?.Path);
        const format = input.TimestampFormat as string | undefined;
        if (format !== undefined && format !== 'yyyy-MM-dd' && format !== 'yyyy-MM-dd HH:mm:ss') {
          throw invalid(`TimestampFormat must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, got "${format}"`);
        }
        if (input.Format !== undefined && input.Format !== 'CSV') throw invalid(`Format "${input.Format}": the built-in engine imports CSV only`);
        if (input.ImportMode !== undefined && !['FULL', 'INCREMENTAL'].includes(input.ImportMode)) throw invalid(`ImportMode must be FULL or INCREMENTAL`);
        if (dataset.status !== 'ACTIVE') throw inUse(`Dataset ${dataset.name} is ${dataset.status}`);
        const doc = await resources.create('dataset-import-job', `${dataset.name}/${name}`, name, input, dataset.arn);
        return { DatasetImportJobArn: doc.arn };
      },
    },
    {
      command: DescribeDatasetImportJobCommand,
      operation: 'DescribeDatasetImportJob',
      handle: async (input) => {
        const d = await resources.mustRead(input.DatasetImportJobArn, 'dataset-import-job', 'DatasetImportJobArn');
        return {
          ...importShape(d),
          DatasetArn: d.request.DatasetArn,
          TimestampFormat: d.request.TimestampFormat ?? 'yyyy-MM-dd HH:mm:ss',
          DataSize: d.result?.dataSize,
          FieldStatistics: d.result ? { item_id: { CountDistinct: d.result.itemCount, Count: d.result.rowCount } } : undefined,
          Format: 'CSV',
          EstimatedTimeRemainingInMinutes: IN_PROGRESS.has(d.status) ? 1 : 0,
        };
      },
    },
    {
      command: DeleteDatasetImportJobCommand,
      operation: 'DeleteDatasetImportJob',
      handle: (input) => resources.deleteOne('dataset-import-job', 'DatasetImportJobArn', input),
    },
    {
      command: ListDatasetImportJobsCommand,
      operation: 'ListDatasetImportJobs',
      handle: async (input) => {
        const docs = applyFilters(await resources.readAll('dataset-import-job'), input.Filters, { DatasetArn: (d) => d.parentArn, Status: (d) => d.status });
        return page(docs.map(importShape), input, 'DatasetImportJobs');
      },
    },
  ];
}
