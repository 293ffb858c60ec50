/**
 * shared/secrets.ts with the real Secrets Manager client against moto_server: the value is
 * fetched once per container (cached, also across concurrent callers), a failed fetch is not cached.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSecretJson, getSecretString, setSecretsClient } from '../../../shared/secrets';
import { startMoto, type MotoServer } from './moto';

let moto: MotoServer;
let admin: SecretsManagerClient;
let client: SecretsManagerClient;
const fetches: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  admin = new SecretsManagerClient(moto.clientConfig);
  client = new SecretsManagerClient(moto.clientConfig);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      fetches.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordFetches' },
  );
});

beforeEach(() => {
  setSecretsClient(client);
  fetches.length = 0;
});

afterAll(async () => {
  setSecretsClient(undefined);
  admin?.destroy();
  client?.destroy();
  await moto?.stop();
});

describe('Secrets (real Secrets Manager client, moto endpoint)', () => {
  it('fetches a JSON secret once and serves later and concurrent calls from the cache', async () => {
    // Prepare
    const created = await admin.send(
      new CreateSecretCommand({ Name: 'forecast/snowflake', SecretString: JSON.stringify({ account: 'acme', username: 'svc', password: 'p"w\'d' }) }),
    );
    // Act
    const [a, b] = await Promise.all([getSecretJson(created.ARN!), getSecretJson(created.ARN!)]);
    await admin.send(new PutSecretValueCommand({ SecretId: created.ARN!, SecretString: JSON.stringify({ account: 'rotated' }) }));
    const later = await getSecretJson(created.ARN!);
    // Assess
    expect(a).toEqual({ account: 'acme', username: 'svc', password: 'p"w\'d' });
    expect(b).toEqual(a);
    expect(later).toEqual(a);
    expect(fetches).toEqual(['GetSecretValueCommand']);
  });

  it('does not cache a failed fetch: the next call retries', async () => {
    // Act
    await expect(getSecretString('forecast/not-yet')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await admin.send(new CreateSecretCommand({ Name: 'forecast/not-yet', SecretString: 'now here' }));
    const value = await getSecretString('forecast/not-yet');
    // Assess
    expect(value).toBe('now here');
    expect(fetches).toEqual(['GetSecretValueCommand', 'GetSecretValueCommand']);
  });

  it('reports a secret that is not a JSON object as a configuration error', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'forecast/plain', SecretString: 'just text' }));
    await expect(getSecretJson('forecast/plain')).rejects.toMatchObject({ name: 'ConfigurationError' });
    await admin.send(new CreateSecretCommand({ Name: 'forecast/binary', SecretBinary: new Uint8Array([1, 2, 3]) }));
    await expect(getSecretString('forecast/binary')).rejects.toMatchObject({ name: 'ConfigurationError' });
  });
});
