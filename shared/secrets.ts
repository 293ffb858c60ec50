/**
 * Secrets Manager, read once per container: the first call fetches, later calls (and concurrent
 * ones) share the same promise. A failed fetch is not cached, so the next invocation retries.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from './errors';
import { traced } from './observability';

type SecretsClient = Pick<SecretsManagerClient, 'send'>;

let client: SecretsClient | undefined;
const cache = new Map<string, Promise<string>>();

/** Replaces the client (tests) and forgets cached values. */
export function setSecretsClient(replacement: SecretsClient | undefined): void {
  client = replacement;
  cache.clear();
}

/** The secret's string value, cached per container. */
export function getSecretString(secretId: string): Promise<string> {
  let value = cache.get(secretId);
  if (!value) {
    value = (async () => {
      client ??= traced(new SecretsManagerClient({ maxAttempts: 5 }));
      const response = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (response.SecretString === undefined) throw new ConfigurationError(`Secret ${secretId} has no string value`);
      return response.SecretString;
    })();
    cache.set(secretId, value);
    value.catch(() => cache.delete(secretId));
  }
  return value;
}

/** The secret parsed as a JSON object. */
export async function getSecretJson<T = Record<string, unknown>>(secretId: string): Promise<T> {
  const text = await getSecretString(secretId);
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as T;
  } catch {
    throw new ConfigurationError(`Secret ${secretId} is not a JSON object`);
  }
}
