/** Environment reading, once per container (cold start), with errors that name the variable. */
import { ConfigurationError } from './errors';

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

export function optionalEnv(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function choiceEnv<T extends string>(
  name: string,
  choices: readonly T[],
  fallback: T,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const value = optionalEnv(name, fallback, env);
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigurationError(`Environment variable ${name}="${value}" must be one of ${choices.join(', ')}`);
  }
  return value as T;
}
