import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { setSecretsClient } from '../../shared/secrets';

/**
 * The wiring's connection policy for Snowflake: a connect that fails is retried, a connection that
 * went down is replaced. The driver itself is exercised on the wire in warehouse-snowflake.test.ts;
 * here it is faked so a connect can be made to fail.
 */

/** A fake of the snowflake-sdk surface the adapter uses, recording every statement. */
const fake = vi.hoisted(() => {
  const state = {
    platformDetectionAtLoad: undefined as string | undefined,
    connectOptions: undefined as Record<string, unknown> | undefined,
    executed: [] as { sqlText: string; binds: unknown; streamResult: boolean | undefined }[],
    rows: [] as Record<string, unknown>[],
    failOn: undefined as RegExp | undefined,
    destroyed: false,
    /** Connects that fail before one succeeds, and whether the connection is still up. */
    connectFailures: 0,
    up: true,
    connections: 0,
  };
  return state;
});

vi.mock('snowflake-sdk', () => {
  fake.platformDetectionAtLoad = process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION;
  const connection = {
    connect(callback: (err: Error | undefined, conn: unknown) => void) {
      const failing = fake.connectFailures > 0;
      if (failing) fake.connectFailures--;
      setImmediate(() => callback(failing ? new Error('Network error: could not reach acme.snowflakecomputing.com') : undefined, connection));
      return connection;
    },
    isUp: () => fake.up,
    execute(options: { sqlText: string; binds?: unknown; streamResult?: boolean; complete?: (err: Error | undefined, stmt: unknown) => void }) {
      fake.executed.push({ sqlText: options.sqlText, binds: options.binds, streamResult: options.streamResult });
      const rows = fake.rows;
      const statement = {
        streamRows: () => Readable.from(rows),
        getNumUpdatedRows: () => (Array.isArray(options.binds) && Array.isArray(options.binds[0]) ? options.binds.length : 1),
      };
      const err = fake.failOn?.test(options.sqlText) ? new Error('SQL compilation error') : undefined;
      setImmediate(() => options.complete?.(err, statement));
      return statement;
    },
    destroy(callback: (err: Error | undefined, conn: unknown) => void) {
      fake.destroyed = true;
      callback(undefined, connection);
    },
  };
  const sdk = {
    createConnection: (options: Record<string, unknown>) => {
      fake.connectOptions = options;
      fake.connections++;
      return connection;
    },
    configure: () => undefined,
  };
  return { default: sdk };
});

const secrets = mockClient(SecretsManagerClient);
const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:snowflake';

describe('Function: dependenciesFromEnv with WAREHOUSE=snowflake (snowflake-sdk faked: connect failures on demand)', () => {
  beforeEach(() => {
    secrets.reset();
    setSecretsClient(new SecretsManagerClient({}));
    secrets.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({
      SecretString: JSON.stringify({ account: 'acme', username: 'svc', password: 'p', warehouse: 'WH', database: 'DB', schema: 'FC' }),
    });
    fake.executed = [];
    fake.rows = [];
    fake.failOn = undefined;
  });

  it('wired: a failed connect is retried, and a connection lost later is replaced by a new one (nothing memoises a failure)', async () => {
    // Prepare: the first connect fails (a network hiccup)
    const { dependenciesFromEnv } = await import('../../shared/runtime');
    fake.connectFailures = 1;
    fake.up = true;
    const before = fake.connections;
    const deps = await dependenciesFromEnv({ BUCKET: 'b', STORAGE: 'folder', LOCAL_ROOT: '/tmp/unused', FORECAST_BACKEND: 'builtin', WAREHOUSE: 'snowflake', SNOWFLAKE_SECRET_ARN: secretArn });

    // Act
    const first = await deps.warehouse();
    const same = await deps.warehouse();
    fake.up = false;
    const replaced = await deps.warehouse();

    // Assess
    expect(same).toBe(first);
    expect(replaced).not.toBe(first);
    expect(fake.connections - before).toBe(3);
    fake.up = true;
  }, 10_000);

});
