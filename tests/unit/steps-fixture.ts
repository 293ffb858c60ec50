/** A pipeline state as parse starts it (two datasets, four models), for the step tests. */
import { ForecastClient } from '@aws-sdk/client-forecast';
import { mockClient } from 'aws-sdk-client-mock';
import type { PipelineState } from '../../shared/state';

export const ACCOUNT = '123456789012';
export const arn = (type: string, id: string) => `arn:aws:forecast:us-east-1:${ACCOUNT}:${type}/${id}`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/forecast-s3`;

const filling = { aggregation: 'sum', frontfill: 'none', middlefill: 'mean', backfill: 'mean' };

/** A dataset spec of the demo run: `kind` names it, `column` is its value column (float). */
function dataset(kind: 'TARGET' | 'RELATED', column: string): PipelineState['datasets'][number] {
  return {
    kind,
    name: `demo_${kind}`,
    datasetType: `${kind}_TIME_SERIES`,
    domain: 'CUSTOM',
    dataFrequency: 'D',
    schema: {
      Attributes: [
        { AttributeName: 'timestamp', AttributeType: 'timestamp' },
        { AttributeName: 'item_id', AttributeType: 'string' },
        { AttributeName: column, AttributeType: 'float' },
      ],
    },
    s3Uri: `s3://data-bucket/demo/20240301/${kind.toLowerCase()}.csv`,
    importJobName: `demo_${kind}_20240301`,
    timestampFormat: 'yyyy-MM-dd',
  };
}

export function pipelineState(overrides: Partial<PipelineState> = {}): PipelineState {
  const predictor = (model: PipelineState['predictors'][number]['model'], extra: Partial<PipelineState['predictors'][number]> = {}) => ({
    name: `demo_${model}_2`,
    model,
    api: 'legacy' as const,
    performAutoML: false,
    performHPO: false,
    backtestWindows: 2,
    backtestWindowOffset: 14,
    forecastHorizon: 14,
    forecastTypes: ['0.50', '0.90'],
    targetFilling: { ...filling },
    ...extra,
  });
  const predictors = [
    predictor('ETS', { algorithmArn: 'arn:aws:forecast:::algorithm/ETS' }),
    predictor('CNNQR', { name: 'demo_CNNQR_2_hpo', algorithmArn: 'arn:aws:forecast:::algorithm/CNN-QR', performHPO: true }),
    predictor('AUTOML', { performAutoML: true }),
    predictor('AUTOPREDICTOR', { api: 'auto' }),
  ];
  return {
    run: {
      runId: 'demo_2024_03_01',
      attempt: 1,
      dataName: 'demo',
      dateCreate: '20240301',
      bucket: 'data-bucket',
      performDelete: true,
      transform: 'log1p',
      nonNegative: true,
      frequency: 'D',
      forecastHorizon: 14,
      timestampFormat: 'yyyy-MM-dd',
    },
    datasetGroup: { name: 'demo_group', domain: 'CUSTOM' },
    datasets: [dataset('TARGET', 'target_value'), dataset('RELATED', 'price')],
    predictors,
    forecasts: predictors.map((p) => ({
      name: `${p.name}_forecast`,
      predictorName: p.name,
      model: p.model,
      forecastTypes: ['0.50', '0.90'],
      exportJobName: `${p.name}_export`,
      exportS3Uri: `s3://data-bucket/demo/20240301/exports/${p.name}_forecast/`,
    })),
    results: {},
    ...overrides,
  };
}

/** The state after the create steps: every slice written. */
export function stateWithResults(): PipelineState {
  const state = pipelineState();
  state.results = {
    datasets: state.datasets.map((d) => ({ kind: d.kind, name: d.name, arn: arn('dataset', d.name) })),
    datasetGroup: { name: state.datasetGroup.name, arn: arn('dataset-group', state.datasetGroup.name) },
    predictors: state.predictors.map((p) => ({ name: p.name, model: p.model, arn: arn('predictor', p.name), status: 'ACTIVE' as const })),
  };
  return state;
}

/** A mocked Forecast client (aws-sdk-client-mock) and the real client instance it intercepts. */
export function mockedForecast() {
  const mock = mockClient(ForecastClient);
  const client = new ForecastClient({ region: 'us-east-1' });
  return { mock, client };
}

/** An SDK-shaped service exception (name + $metadata) as the real clients throw them. */
export function serviceError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}
