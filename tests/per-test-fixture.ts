/** One way for a `describe` to get a fresh fixture per test without `let` + beforeEach + afterEach. */
import { afterEach, beforeEach } from 'vitest';

/**
 * Registers, in the enclosing `describe`, `open()` before each test and `close(fixture)` after it.
 * The returned object stands for the current test's fixture: reading a field reads the current
 * one's (methods are bound to it). Reading it outside a test throws.
 */
export function perTestFixture<T extends object>(what: string, open: () => Promise<T>, close: (fixture: T) => Promise<unknown>): T {
  let current: T | undefined;
  beforeEach(async () => {
    current = await open();
  });
  afterEach(async () => {
    const fixture = current;
    current = undefined;
    if (fixture) await close(fixture);
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!current) throw new Error(`${what} exists only inside a test`);
      const value: unknown = Reflect.get(current, key, current);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
