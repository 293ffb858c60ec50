/** Datasets and dataset groups: bookkeeping resources, ACTIVE at creation. */
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  ListDatasetGroupsCommand,
  ListDatasetsCommand,
  UpdateDatasetGroupCommand,
} from '@aws-sdk/client-forecast';
import type { ResourceDoc } from '../repository';
import { inUse } from '../service-errors';
import { checkFrequency, checkName, invalid, required } from '../validation';
import type { CommandContext, CommandHandler } from './command';
import { page, times } from './listing';

const DOMAINS = ['RETAIL', 'CUSTOM', 'INVENTORY_PLANNING', 'EC2_CAPACITY', 'WORK_FORCE', 'WEB_TRAFFIC', 'METRICS'];

export function datasetCommands({ resources, repo }: CommandContext): CommandHandler[] {
  async function datasetStatus(d: ResourceDoc): Promise<string> {
    if (d.status !== 'ACTIVE') return d.status;
    return (await resources.isImporting(d.arn)) ? 'UPDATE_IN_PROGRESS' : 'ACTIVE';
  }

  async function checkGroupDatasets(arns: unknown): Promise<string[]> {
    const list = (arns ?? []) as string[];
    if (!Array.isArray(list)) throw invalid('DatasetArns must be a list');
    if (list.length > 3) throw invalid(`A dataset group holds at most 3 datasets, got ${list.length}`);
    const types = new Set<string>();
    for (const arn of list) {
      const d = await resources.mustRead(arn, 'dataset', 'DatasetArns');
      const type = String(d.request.DatasetType);
      if (types.has(type)) throw invalid(`A dataset group holds one dataset of each type; ${type} appears twice`);
      types.add(type);
    }
    return list;
  }

  return [
    {
      command: CreateDatasetCommand,
      operation: 'CreateDataset',
      handle: async (input) => {
        const name = checkName('DatasetName', input.DatasetName);
        const domain = required('Domain', input.Domain as string | undefined);
        if (!DOMAINS.includes(domain)) throw invalid(`Domain must be one of ${DOMAINS.join(', ')}, got "${domain}"`);
        const type = required('DatasetType', input.DatasetType as string | undefined);
        if (!['TARGET_TIME_SERIES', 'RELATED_TIME_SERIES', 'ITEM_METADATA'].includes(type)) throw invalid(`DatasetType "${type}" is not valid`);
        if (type !== 'ITEM_METADATA') checkFrequency('DataFrequency', input.DataFrequency);
        const attributes = (input.Schema?.Attributes ?? []) as { AttributeName?: string; AttributeType?: string }[];
        if (!attributes.length) throw invalid('Schema.Attributes is required');
        const names = attributes.map((a) => a.AttributeName ?? '');
        for (const a of attributes) {
          if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(a.AttributeName ?? '')) throw invalid(`Schema attribute name "${a.AttributeName}" is not valid`);
          if (!['string', 'integer', 'float', 'timestamp', 'geolocation'].includes(a.AttributeType ?? '')) {
            throw invalid(`Schema attribute ${a.AttributeName}: AttributeType "${a.AttributeType}" is not valid`);
          }
        }
        if (new Set(names).size !== names.length) throw invalid(`Schema has duplicate attributes: ${names.join(', ')}`);
        const needs = type === 'TARGET_TIME_SERIES' ? ['item_id', 'timestamp', 'target_value'] : type === 'RELATED_TIME_SERIES' ? ['item_id', 'timestamp'] : ['item_id'];
        const missing = needs.filter((n) => !names.includes(n));
        if (missing.length) throw invalid(`A ${domain} ${type} dataset needs the attributes ${needs.join(', ')}; missing ${missing.join(', ')}`);
        const doc = await resources.create('dataset', name, name, input);
        return { DatasetArn: doc.arn };
      },
    },
    {
      command: DescribeDatasetCommand,
      operation: 'DescribeDataset',
      handle: async (input) => {
        const d = await resources.mustRead(input.DatasetArn, 'dataset', 'DatasetArn');
        const r = d.request;
        return {
          DatasetArn: d.arn,
          DatasetName: d.name,
          Domain: r.Domain,
          DatasetType: r.DatasetType,
          DataFrequency: r.DataFrequency,
          Schema: r.Schema,
          Status: await datasetStatus(d),
          ...times(d),
        };
      },
    },
    { command: DeleteDatasetCommand, operation: 'DeleteDataset', handle: (input) => resources.deleteOne('dataset', 'DatasetArn', input) },
    {
      command: ListDatasetsCommand,
      operation: 'ListDatasets',
      handle: async (input) =>
        page(
          (await resources.readAll('dataset')).map((d) => ({ DatasetArn: d.arn, DatasetName: d.name, DatasetType: d.request.DatasetType, Domain: d.request.Domain, ...times(d) })),
          input,
          'Datasets',
        ),
    },
    {
      command: CreateDatasetGroupCommand,
      operation: 'CreateDatasetGroup',
      handle: async (input) => {
        const name = checkName('DatasetGroupName', input.DatasetGroupName);
        required('Domain', input.Domain as string | undefined);
        await checkGroupDatasets(input.DatasetArns);
        const doc = await resources.create('dataset-group', name, name, input);
        return { DatasetGroupArn: doc.arn };
      },
    },
    {
      command: UpdateDatasetGroupCommand,
      operation: 'UpdateDatasetGroup',
      handle: async (input) => {
        const group = await resources.mustRead(input.DatasetGroupArn, 'dataset-group', 'DatasetGroupArn');
        if (group.status !== 'ACTIVE') throw inUse(`Dataset group ${group.name} is ${group.status}`);
        const arns = await checkGroupDatasets(required('DatasetArns', input.DatasetArns));
        await repo.update(group.arn, (d) => {
          d.request = { ...d.request, DatasetArns: arns };
        });
        return {};
      },
    },
    {
      command: DescribeDatasetGroupCommand,
      operation: 'DescribeDatasetGroup',
      handle: async (input) => {
        const d = await resources.mustRead(input.DatasetGroupArn, 'dataset-group', 'DatasetGroupArn');
        return {
          DatasetGroupName: d.name,
          DatasetGroupArn: d.arn,
          DatasetArns: (d.request.DatasetArns as string[] | undefined) ?? [],
          Domain: d.request.Domain,
          Status: d.status,
          ...times(d),
        };
      },
    },
    { command: DeleteDatasetGroupCommand, operation: 'DeleteDatasetGroup', handle: (input) => resources.deleteOne('dataset-group', 'DatasetGroupArn', input) },
    {
      command: ListDatasetGroupsCommand,
      operation: 'ListDatasetGroups',
      handle: async (input) =>
        page((await resources.readAll('dataset-group')).map((d) => ({ DatasetGroupArn: d.arn, DatasetGroupName: d.name, ...times(d) })), input, 'DatasetGroups'),
    },
  ];
}
