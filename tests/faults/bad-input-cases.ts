/**
 * Hostile and broken parameter messages, one row each: what is sent and which field the error
 * must name. Every row must be rejected before anything is written or any execution starts.
 */

/** A valid message the rows below break one field at a time. */
export const VALID_PARAM = {
  DataName: 'bad_input_demo',
  ForecastHorizon: 7,
  NumberOfBacktestWindows: 1,
  PerformDelete: true,
  dateCreate: '20240301',
  ForecastFrequency: 'D',
  Models: ['ETS', 'NPTS'],
  ForecastTypes: ['0.10', '0.50', '0.90'],
} as const;

export interface BadMessage {
  readonly name: string;
  /** The SQS record body / console event body exactly as received. */
  readonly body: string;
  /** What the error must mention: the field (or the problem) by name. */
  readonly names: RegExp;
}

const INJECTIONS = [`x'; DROP TABLE forecasts; --`, `" OR "1"="1`, `a\\'); DELETE FROM parameters; --`, '$1; TRUNCATE results'];

function withParam(change: Record<string, unknown>, remove: readonly string[] = []): string {
  const param: Record<string, unknown> = { ...VALID_PARAM, ...change };
  for (const field of remove) delete param[field];
  return JSON.stringify({ param });
}

const message = (name: string, body: string, names: RegExp): BadMessage => ({ name, body, names });

export const BAD_MESSAGES: readonly BadMessage[] = [
  // JSON that does not parse, or is not a message at all
  message('body is not JSON', '{"param": {"DataName": "x",', /JSON/i),
  message('body is empty', '', /JSON/i),
  message('body is JSON null', 'null', /param|message|object/i),
  message('body is a JSON array', JSON.stringify([VALID_PARAM]), /param|message|object/i),
  message('body is a JSON string', JSON.stringify('hello'), /param|message|object|JSON/i),
  message('body is a number', '42', /param|message|object/i),
  message('param is missing', JSON.stringify({ parameters: VALID_PARAM }), /param/),
  message('param is an array', JSON.stringify({ param: [VALID_PARAM] }), /param/),
  message('param is a string', JSON.stringify({ param: JSON.stringify(VALID_PARAM) }), /param/),

  // missing fields
  ...(['DataName', 'ForecastHorizon', 'dateCreate'] as const).map((f) => message(`${f} is missing`, withParam({}, [f]), new RegExp(f))),

  // extra fields
  message('a misspelt field (ForcastHorizon)', withParam({ ForcastHorizon: 7 }), /ForcastHorizon/),
  message('an unknown field', withParam({ Sql: 'SELECT 1' }), /Sql/),
  message('an extra field next to param', JSON.stringify({ param: VALID_PARAM, query: 'SELECT * FROM secrets' }), /query/),
  message('an unknown per-model override field', withParam({ ModelOverrides: { ETS: { Query: 'x' } } }), /Query/),

  // wrong types
  message('DataName is a number', withParam({ DataName: 42 }), /DataName/),
  message('ForecastHorizon is a string', withParam({ ForecastHorizon: '7' }), /ForecastHorizon/),
  message('ForecastHorizon is fractional', withParam({ ForecastHorizon: 7.5 }), /ForecastHorizon/),
  message('NumberOfBacktestWindows is a string', withParam({ NumberOfBacktestWindows: '1' }), /NumberOfBacktestWindows/),
  message('PerformDelete is the string "true"', withParam({ PerformDelete: 'true' }), /PerformDelete/),
  message('PerformDelete is 1', withParam({ PerformDelete: 1 }), /PerformDelete/),
  message('dateCreate is a number', withParam({ dateCreate: 20240301 }), /dateCreate/),
  message('Models is a string', withParam({ Models: 'ETS' }), /Models/),
  message('Models holds a number', withParam({ Models: ['ETS', 7] }), /Models/),
  message('ForecastTypes holds numbers', withParam({ ForecastTypes: [0.5] }), /ForecastTypes/),
  message('ForecastFrequency is null', withParam({ ForecastFrequency: null }), /ForecastFrequency/),

  // out of range
  message('ForecastHorizon is 0', withParam({ ForecastHorizon: 0 }), /ForecastHorizon/),
  message('ForecastHorizon is negative', withParam({ ForecastHorizon: -7 }), /ForecastHorizon/),
  message('ForecastHorizon is above 500', withParam({ ForecastHorizon: 501 }), /ForecastHorizon/),
  message('ForecastHorizon is huge', withParam({ ForecastHorizon: 1e308 }), /ForecastHorizon/),
  message('NumberOfBacktestWindows is 0', withParam({ NumberOfBacktestWindows: 0 }), /NumberOfBacktestWindows/),
  message('NumberOfBacktestWindows is 6', withParam({ NumberOfBacktestWindows: 6 }), /NumberOfBacktestWindows/),
  message('dateCreate is not a real date', withParam({ dateCreate: '20240230' }), /dateCreate/),
  message('dateCreate has dashes', withParam({ dateCreate: '2024-03-01' }), /dateCreate/),
  message('dateCreate has 9 digits', withParam({ dateCreate: '202403011' }), /dateCreate/),
  message('ForecastFrequency 7D is not a Forecast frequency', withParam({ ForecastFrequency: '7D' }), /ForecastFrequency/),
  message('ForecastFrequency "daily"', withParam({ ForecastFrequency: 'daily' }), /ForecastFrequency/),
  message('an unknown model', withParam({ Models: ['ETS', 'GPT'] }), /Models/),
  message('no models', withParam({ Models: [] }), /Models/),
  message('a model twice', withParam({ Models: ['ETS', 'ETS'] }), /Models/),
  message('six forecast types', withParam({ ForecastTypes: ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6'] }), /ForecastTypes/),
  message('a quantile of 1.5', withParam({ ForecastTypes: ['1.5'] }), /ForecastTypes/),
  message('a quantile of 0.001', withParam({ ForecastTypes: ['0.001'] }), /ForecastTypes/),
  message('a quantile of 0', withParam({ ForecastTypes: ['0.0'] }), /ForecastTypes/),
  message('backtest windows override of 9', withParam({ ModelOverrides: { ETS: { NumberOfBacktestWindows: 9 } } }), /NumberOfBacktestWindows/),
  // checkable before training (issue 12 item 7): Forecast's hyperparameter and HPO rules, reserved keys
  message('an unknown NPTS hyperparameter', withParam({ ModelOverrides: { NPTS: { TrainingParameters: { likelihood: 'gaussian' } } } }), /ModelOverrides\.NPTS\.TrainingParameters\.likelihood/),
  message('a bad NPTS kernel_type', withParam({ ModelOverrides: { NPTS: { TrainingParameters: { kernel_type: 'gauss' } } } }), /ModelOverrides\.NPTS\.TrainingParameters\.kernel_type: must be exponential or uniform/),
  message('a hyperparameter for ETS (it has none)', withParam({ ModelOverrides: { ETS: { TrainingParameters: { alpha: '0.3' } } } }), /ModelOverrides\.ETS\.TrainingParameters\.alpha/),
  message('TrainingParameters for AUTOPREDICTOR', withParam({ Models: ['AUTOPREDICTOR'], ModelOverrides: { AUTOPREDICTOR: { TrainingParameters: { epochs: '5' } } } }), /ModelOverrides\.AUTOPREDICTOR\.TrainingParameters/),
  message('PerformHPO on ETS (no HPO)', withParam({ ModelOverrides: { ETS: { PerformHPO: true } } }), /ModelOverrides\.ETS\.PerformHPO/),
  message('__proto__ as an override model', `{"param": ${JSON.stringify(VALID_PARAM).slice(0, -1)}, "ModelOverrides": {"__proto__": {"NumberOfBacktestWindows": 2}}}}`, /ModelOverrides\.__proto__/),
  message('__proto__ as a hyperparameter', `{"param": ${JSON.stringify(VALID_PARAM).slice(0, -1)}, "ModelOverrides": {"NPTS": {"TrainingParameters": {"__proto__": "1"}}}}}`, /TrainingParameters\.__proto__/),
  message('a hyperparameter name that is an injection', withParam({ ModelOverrides: { NPTS: { TrainingParameters: { "x'; DROP TABLE t; --": '1' } } } }), /TrainingParameters/),
  message('override of a model not requested', withParam({ ModelOverrides: { ARIMA: { NumberOfBacktestWindows: 2 } } }), /ARIMA/),
  message('an unknown TimestampFormat', withParam({ TimestampFormat: 'dd/MM/yyyy' }), /TimestampFormat/),

  // names breaking Forecast's rules
  message('DataName starts with a digit', withParam({ DataName: '1retail' }), /DataName/),
  message('DataName starts with _', withParam({ DataName: '_retail' }), /DataName/),
  message('DataName has a dash', withParam({ DataName: 'retail-demo' }), /DataName/),
  message('DataName has a space', withParam({ DataName: 'retail demo' }), /DataName/),
  message('DataName has a dot', withParam({ DataName: 'retail.demo' }), /DataName/),
  message('DataName has a slash (path traversal)', withParam({ DataName: '../../etc/passwd' }), /DataName/),
  message('DataName is non-ASCII', withParam({ DataName: 'dätä' }), /DataName/),
  message('DataName is empty', withParam({ DataName: '' }), /DataName/),
  message('DataName is 46 characters', withParam({ DataName: `a${'b'.repeat(45)}` }), /DataName/),
  message('DataName has a newline', withParam({ DataName: 'retail\nINFO fake log line' }), /DataName/),

  // huge payloads
  message('DataName of 100,000 characters', withParam({ DataName: 'a'.repeat(100_000) }), /DataName/),
  message('a 1 MiB junk field', withParam({ Junk: 'x'.repeat(1 << 20) }), /Junk/),
  message('10,000 models', withParam({ Models: Array.from({ length: 10_000 }, () => 'ETS') }), /Models/),
  message('JSON nested 5,000 deep', `{"param": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`, /param/),

  // SQL and quote injection in every string field
  ...INJECTIONS.flatMap((attack, i) => [
    message(`injection #${i + 1} in DataName`, withParam({ DataName: attack }), /DataName/),
    message(`injection #${i + 1} in dateCreate`, withParam({ dateCreate: attack }), /dateCreate/),
    message(`injection #${i + 1} in ForecastFrequency`, withParam({ ForecastFrequency: attack }), /ForecastFrequency/),
    message(`injection #${i + 1} in Models`, withParam({ Models: ['ETS', attack] }), /Models/),
    message(`injection #${i + 1} in ForecastTypes`, withParam({ ForecastTypes: ['0.5', attack] }), /ForecastTypes/),
    message(`injection #${i + 1} in TimestampFormat`, withParam({ TimestampFormat: attack }), /TimestampFormat/),
    message(`injection #${i + 1} as a field name`, withParam({ [attack]: 1 }), /unknown field/),
    message(`injection #${i + 1} as an override model`, withParam({ ModelOverrides: { [attack]: {} } }), /ModelOverrides/),
  ]),
];

/** One actual of the default target input table. */
export interface ActualRow {
  readonly item: string;
  /** `YYYY-MM-DD` or `YYYY-MM-DD HH:mm:ss` */
  readonly at: string;
  readonly value: number | null;
}

export interface BadData {
  readonly name: string;
  /** Rows of the target input table for VALID_PARAM.DataName (before dateCreate: the training history). */
  readonly rows: readonly ActualRow[];
  /** Message fields that differ from VALID_PARAM for this case. */
  readonly param?: Record<string, unknown>;
  /** Rows of the related input table (item, day, price, promotion). */
  readonly related?: readonly { item: string; at: string; price: number | null; promotion: number | null }[];
  /** Deployment configuration (environment) for parse, e.g. a custom TARGET_QUERY. */
  readonly env?: Record<string, string>;
  /** What the error must mention. */
  readonly names: RegExp;
}

/** `n` consecutive days of a plausible series for `item`, ending the day before dateCreate (2024-03-01). */
export function dailySeries(item: string, n: number, value: (i: number) => number | null = (i) => 10 + (i % 7) + i / 10): ActualRow[] {
  const end = Date.UTC(2024, 1, 29);
  return Array.from({ length: n }, (_, i) => ({
    item,
    at: new Date(end - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10),
    value: value(i),
  }));
}

const good = (): ActualRow[] => dailySeries('item_good', 60);

export const BAD_DATA: readonly BadData[] = [
  { name: 'the target query returns no rows', rows: [], names: /no (rows|data)|empty/i },
  { name: 'every item is bad (all negative, a single point)', rows: [...dailySeries('item_negative', 60, () => -3), ...dailySeries('item_single', 1)], names: /every item is quarantined.*item_negative.*item_single/ },
  {
    name: 'data that ends a whole horizon before dateCreate',
    rows: dailySeries('item_old', 60).map((r) => ({ ...r, at: new Date(Date.parse(`${r.at}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10) })),
    names: /dateCreate 20240301: the target data ends 2024-01-30.*all 7 forecast periods/,
  },
  {
    name: 'a duplicated (item, timestamp) row',
    rows: [...good(), { item: 'item_good', at: '2024-02-10', value: 99 }],
    names: /duplicat/i,
  },
  { name: 'the horizon is too long for the history', rows: dailySeries('item_short', 20), param: { ForecastHorizon: 60 }, names: /horizon|ForecastHorizon/i },
  {
    name: 'more backtest windows than the history holds (per-model override)',
    rows: dailySeries('item_short', 20),
    param: { ForecastHorizon: 7, ModelOverrides: { NPTS: { NumberOfBacktestWindows: 3 } } },
    names: /ModelOverrides\.NPTS\.NumberOfBacktestWindows 3 for NPTS/,
  },
  {
    name: 'more backtest windows than the history holds (message-wide)',
    rows: dailySeries('item_short', 30),
    param: { ForecastHorizon: 7, NumberOfBacktestWindows: 5 },
    names: /NumberOfBacktestWindows 5 for ETS/,
  },
  {
    name: 'hourly timestamps under a daily frequency',
    rows: [...good(), { item: 'item_good', at: '2024-02-28 13:00:00', value: 5 }],
    names: /frequency|grid|13:00/i,
  },
  { name: 'daily data under a weekly frequency', rows: good(), param: { ForecastFrequency: 'W' }, names: /periods|frequency|grid/i },
  { name: 'an infinite value', rows: [...good(), ...dailySeries('item_inf', 60, (i) => (i === 30 ? Infinity : 1))], names: /item_inf.*Infinity is not a number/ },
  { name: 'an empty item id', rows: [...good(), ...dailySeries('', 60)], names: /ITEM_ID is empty/ },
  {
    name: 'a non-numeric target value (custom TARGET_QUERY)',
    rows: good(),
    env: {
      TARGET_QUERY: `SELECT TIMESTAMP, ITEM_ID, CASE WHEN TIMESTAMP = TIMESTAMP '2024-02-10' THEN 'n/a' ELSE CAST(TARGET_VALUE AS VARCHAR) END AS TARGET_VALUE
FROM FORECAST_INPUT_TARGET WHERE DATASET_NAME = :DATA_NAME AND TIMESTAMP < CAST(:FORECAST_START AS TIMESTAMP) ORDER BY ITEM_ID, TIMESTAMP`,
    },
    names: /n\/a|not a number|TARGET_VALUE/,
  },
  {
    name: 'related data that stops before the forecast horizon',
    rows: good(),
    related: dailySeries('item_good', 60).map((r) => ({ item: r.item, at: r.at, price: 2.5, promotion: 0 })),
    names: /RELATED_QUERY/,
  },
];

/** Data a production run must survive: the bad items are left out and recorded, the rest forecast. */
export interface SurvivableData {
  readonly name: string;
  readonly rows: readonly ActualRow[];
  readonly related?: BadData['related'];
  /** The data issues the run must record: issue kind, item (null for the run) and a reason pattern. */
  readonly issues: readonly { readonly issue: 'QUARANTINED' | 'STALE_DATA'; readonly item: string | null; readonly reason: RegExp }[];
}

export const SURVIVABLE_DATA: readonly SurvivableData[] = [
  { name: 'an item with only negative values', rows: [...good(), ...dailySeries('item_negative', 60, () => -3)], issues: [{ issue: 'QUARANTINED', item: 'item_negative', reason: /all 60 target values are negative or missing/ }] },
  { name: 'an item with a single data point', rows: [...good(), ...dailySeries('item_single', 1)], issues: [{ issue: 'QUARANTINED', item: 'item_single', reason: /a single data point/ }] },
  { name: 'an item whose values are all missing', rows: [...good(), ...dailySeries('item_null', 60, () => null)], issues: [{ issue: 'QUARANTINED', item: 'item_null', reason: /all 60 target values are negative or missing/ }] },
  {
    name: 'an item id with a newline (its related rows are left out with it)',
    rows: [...good(), ...dailySeries('item\nINFO fake log line', 60)],
    related: [...dailySeries('item\nINFO fake log line', 67), ...dailySeries('item_good', 67)].map((r) => ({ item: r.item, at: shiftDays(r.at, 7), price: 2, promotion: 0 })),
    issues: [{ issue: 'QUARANTINED', item: 'item\nINFO fake log line', reason: /contains a control character/ }],
  },
  {
    name: 'three bad items next to a good one',
    rows: [...dailySeries('item_a_negative', 30, () => -1), ...good(), ...dailySeries('item_single', 1), ...dailySeries('item_z_null', 40, () => null)],
    issues: [
      { issue: 'QUARANTINED', item: 'item_a_negative', reason: /negative or missing/ },
      { issue: 'QUARANTINED', item: 'item_single', reason: /single data point/ },
      { issue: 'QUARANTINED', item: 'item_z_null', reason: /negative or missing/ },
    ],
  },
  {
    name: 'data that ends 3 days before dateCreate (a warning: the first forecast days lie in the past)',
    rows: good().map((r) => ({ ...r, at: shiftDays(r.at, -3) })),
    issues: [{ issue: 'STALE_DATA', item: null, reason: /ends 2024-02-26.*forecast starts 2024-02-27T00:00:00.000Z, not at dateCreate 20240301.*first 3 of 7 periods/ }],
  },
];

function shiftDays(at: string, days: number): string {
  return new Date(Date.parse(`${at}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
