import { describe, expect, it } from 'vitest';
import { DEFAULT_FORECAST_TYPES, DEFAULT_MODELS, parseConsoleEvent, parseMessage, parseMessageBody } from '../../shared/message';
import { InvalidInput } from '../../shared/errors';

const valid = { DataName: 'store_sales', ForecastHorizon: 90, NumberOfBacktestWindows: 2, PerformDelete: true, dateCreate: '20240131' };

function rejection(param: Record<string, unknown>): InvalidInput {
  try {
    parseMessage({ param });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInput);
    return error as InvalidInput;
  }
  throw new Error('expected the message to be rejected');
}

describe('Function: parseMessage', () => {
  it('accepts the seed message and fills the documented defaults', () => {
    // Act
    const { param } = parseMessage({ param: valid });

    // Assess
    expect(param).toEqual({ ...valid, ForecastFrequency: 'D', Models: [...DEFAULT_MODELS], ForecastTypes: [...DEFAULT_FORECAST_TYPES], AllowNegative: false });
    expect(DEFAULT_FORECAST_TYPES).toEqual(['0.50', '0.80', '0.90', '0.95', '0.99']);
  });

  it('accepts every Forecast frequency spelling and per-model overrides', () => {
    // Act
    const { param } = parseMessage({
      param: { ...valid, ForecastFrequency: '1W', Models: ['CNNQR', 'ETS'], ModelOverrides: { CNNQR: { NumberOfBacktestWindows: 4, TrainingParameters: { epochs: 100, use_related_data: 'ALL' } } }, TimestampFormat: 'yyyy-MM-dd' },
    });

    // Assess
    expect(param.ForecastFrequency).toBe('W');
    expect(param.ModelOverrides?.CNNQR).toEqual({ NumberOfBacktestWindows: 4, TrainingParameters: { epochs: '100', use_related_data: 'ALL' } });
  });

  it.each([
    ['DataName', { DataName: '1starts_with_digit' }, /param\.DataName: must match .* received "1starts_with_digit"/],
    ['DataName', { DataName: "x'; DROP TABLE t; --" }, /param\.DataName: must match .* received "x'; DROP TABLE t; --"/],
    ['DataName', { DataName: 'a'.repeat(46) }, /param\.DataName: must be at most 45 characters/],
    ['DataName', { DataName: undefined }, /param\.DataName: is required, received nothing/],
    ['ForecastHorizon', { ForecastHorizon: '90' }, /param\.ForecastHorizon: must be a number, received "90"/],
    ['ForecastHorizon', { ForecastHorizon: 1.5 }, /param\.ForecastHorizon: must be a whole number, received 1\.5/],
    ['ForecastHorizon', { ForecastHorizon: 501 }, /param\.ForecastHorizon: .*500.*received 501/],
    ['ForecastHorizon', { ForecastHorizon: 0 }, /param\.ForecastHorizon: .*received 0/],
    ['NumberOfBacktestWindows', { NumberOfBacktestWindows: 6 }, /param\.NumberOfBacktestWindows: .*received 6/],
    ['PerformDelete', { PerformDelete: 'yes' }, /param\.PerformDelete: must be a boolean, received "yes"/],
    ['dateCreate', { dateCreate: '2024-01-31' }, /param\.dateCreate: must be YYYYMMDD, received "2024-01-31"/],
    ['dateCreate', { dateCreate: '20230229' }, /param\.dateCreate: must be a real calendar date .*received "20230229"/],
    ['ForecastFrequency', { ForecastFrequency: '7D' }, /param\.ForecastFrequency: must be a Forecast frequency.*received "7D"/],
    ['Models', { Models: ['ETS', 'LSTM'] }, /param\.Models\.1: must be one of ETS, ARIMA.*received "LSTM"/],
    ['Models', { Models: [] }, /param\.Models: .*received \[\]/],
    ['Models', { Models: ['ETS', 'ETS'] }, /param\.Models: must not name a model twice/],
    ['ForecastTypes', { ForecastTypes: ['0.5', '1.5'] }, /param\.ForecastTypes\.1: must be "mean" or a quantile from 0\.01 to 0\.99, received "1\.5"/],
    ['ForecastTypes', { ForecastTypes: ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6'] }, /param\.ForecastTypes: .*received \[/],
    ['ModelOverrides', { ModelOverrides: { CNNQR: { NumberOfBacktestWindows: 2 } } }, /param\.ModelOverrides\.CNNQR: overrides a model that is not in Models/],
    ['ModelOverrides', { ModelOverrides: { ETS: { Epochs: 2 } } }, /param\.ModelOverrides\.ETS: unknown field "Epochs"/],
    ['TimestampFormat', { TimestampFormat: 'dd/MM/yyyy' }, /param\.TimestampFormat: must be one of yyyy-MM-dd, yyyy-MM-dd HH:mm:ss, received "dd\/MM\/yyyy"/],
    ['TimestampFormat', { ForecastFrequency: 'H', TimestampFormat: 'yyyy-MM-dd' }, /param\.TimestampFormat: yyyy-MM-dd cannot carry the time of day/],
    ['extra field', { ForcastHorizon: 3 }, /param: unknown field "ForcastHorizon"/],
  ])('rejects a bad %s naming the field and the value received', (_field, change, expected) => {
    // Act
    const error = rejection({ ...valid, ...change });

    // Assess
    expect(error.message).toMatch(expected);
  });

  it('lists every violation at once', () => {
    const error = rejection({ ...valid, DataName: '1x', ForecastHorizon: -1, Extra: true });
    expect(error.issues).toHaveLength(3);
  });
});

describe('Function: parseConsoleEvent', () => {
  it.each([
    ['{"body": {"param": …}}', { body: { param: valid } }],
    ['{"body": "<json>"}', { body: JSON.stringify({ param: valid }) }],
    ['{"param": …}', { param: valid }],
  ])('accepts %s without editing code', (_shape, event) => {
    expect(parseConsoleEvent(event).param.DataName).toBe('store_sales');
  });

  it('rejects a body that is not JSON, and fields next to param', () => {
    expect(() => parseMessageBody('{"param":')).toThrow(/body is not JSON/);
    expect(() => parseConsoleEvent({ param: valid, extra: 1 })).toThrow(/\(message\): unknown field "extra"/);
    expect(() => parseConsoleEvent({ body: { param: valid }, other: 1 })).toThrow(/unknown field "other" next to body/);
    expect(() => parseConsoleEvent(null)).toThrow(InvalidInput);
  });
});
