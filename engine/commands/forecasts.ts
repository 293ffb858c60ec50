/** Forecasts and forecast export jobs (a forecast's predictions written as CSV parts under S3). */
import {
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  DeleteForecastCommand,
  DeleteForecastExportJobCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
} from '@aws-sdk/client-forecast';
import { IN_PROGRESS, type ResourceDoc } from '../repository';
import { inUse } from '../service-errors';
import { checkForecastTypes, checkName, checkS3Path, invalid } from '../validation';
import type { CommandContext, CommandHandler } from './command';
import { applyFilters, page, statusOf, times } from './listing';

const forecastSummary = (d: ResourceDoc) => ({
  ForecastArn: d.arn,
  ForecastName: d.name,
  PredictorArn: d.parentArn,
  DatasetGroupArn: d.request.DatasetGroupArn,
  ...statusOf(d),
  ...times(d),
});

const exportShape = (d: ResourceDoc) => ({
  ForecastExportJobArn: d.arn,
  ForecastExportJobName: d.name,
  Destination: d.request.Destination,
  ...statusOf(d),
  ...times(d),
});

export function forecastCommands({ resources }: CommandContext): CommandHandler[] {
  return [
    {
      command: CreateForecastCommand,
      operation: 'CreateForecast',
      handle: async (input) => {
        const name = checkName('ForecastName', input.ForecastName);
        checkForecastTypes(input.ForecastTypes);
        if (input.TimeSeriesSelector) throw invalid('TimeSeriesSelector is not supported by the built-in engine');
        const predictor = await resources.mustRead(input.PredictorArn, 'predictor', 'PredictorArn');
        if (predictor.status !== 'ACTIVE') throw inUse(`Predictor ${predictor.name} is ${predictor.status}; a forecast needs an ACTIVE predictor`);
        const doc = await resources.create('forecast', name, name, { ...input, DatasetGroupArn: predictor.parentArn }, predictor.arn);
        return { ForecastArn: doc.arn };
      },
    },
    {
      command: DescribeForecastCommand,
      operation: 'DescribeForecast',
      handle: async (input) => {
        const d = await resources.mustRead(input.ForecastArn, 'forecast', 'ForecastArn');
        return { ...forecastSummary(d), ForecastTypes: d.request.ForecastTypes ?? ['0.1', '0.5', '0.9'], EstimatedTimeRemainingInMinutes: IN_PROGRESS.has(d.status) ? 1 : 0 };
      },
    },
    { command: DeleteForecastCommand, operation: 'DeleteForecast', handle: (input) => resources.deleteOne('forecast', 'ForecastArn', input) },
    {
      command: ListForecastsCommand,
      operation: 'ListForecasts',
      handle: async (input) => {
        const predictors = new Map((await resources.readAll('predictor')).map((p) => [p.arn, p.parentArn]));
        const docs = applyFilters(await resources.readAll('forecast'), input.Filters, {
          PredictorArn: (d) => d.parentArn,
          DatasetGroupArn: (d) => predictors.get(d.parentArn ?? ''),
          Status: (d) => d.status,
        });
        return page(docs.map((d) => ({ ...forecastSummary(d), DatasetGroupArn: predictors.get(d.parentArn ?? '') })), input, 'Forecasts');
      },
    },
    {
      command: CreateForecastExportJobCommand,
      operation: 'CreateForecastExportJob',
      handle: async (input) => {
        const name = checkName('ForecastExportJobName', input.ForecastExportJobName);
        checkS3Path('Destination.S3Config.Path', input.Destination?.S3Config?.Path);
        if (input.Format !== undefined && input.Format !== 'CSV') throw invalid(`Format "${input.Format}": the built-in engine exports CSV only`);
        const forecast = await resources.mustRead(input.ForecastArn, 'forecast', 'ForecastArn');
        if (forecast.status !== 'ACTIVE') throw inUse(`Forecast ${forecast.name} is ${forecast.status}; an export needs an ACTIVE forecast`);
        const doc = await resources.create('forecast-export-job', `${forecast.name}/${name}`, name, input, forecast.arn);
        return { ForecastExportJobArn: doc.arn };
      },
    },
    {
      command: DescribeForecastExportJobCommand,
      operation: 'DescribeForecastExportJob',
      handle: async (input) => {
        const d = await resources.mustRead(input.ForecastExportJobArn, 'forecast-export-job', 'ForecastExportJobArn');
        return { ...exportShape(d), ForecastArn: d.parentArn, Format: 'CSV' };
      },
    },
    {
      command: DeleteForecastExportJobCommand,
      operation: 'DeleteForecastExportJob',
      handle: (input) => resources.deleteOne('forecast-export-job', 'ForecastExportJobArn', input),
    },
    {
      command: ListForecastExportJobsCommand,
      operation: 'ListForecastExportJobs',
      handle: async (input) => {
        const docs = applyFilters(await resources.readAll('forecast-export-job'), input.Filters, { ForecastArn: (d) => d.parentArn, Status: (d) => d.status });
        return page(docs.map(exportShape), input, 'ForecastExportJobs');
      },
    },
  ];
}
