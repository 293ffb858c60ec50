/**
 * vendor/aws-local-stepfunctions is the registry's aws-local-stepfunctions 3.0.0 with only its
 * package.json patched (engines; scripts/vendor-asl-runner.mjs explains why). These checks keep
 * it that: the code is the published code, the project resolves this copy, its engines agree with
 * the project's, and it runs a state machine on the Node running the tests.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../local/polyfill';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VENDORED = join(ROOT, 'vendor', 'aws-local-stepfunctions');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('vendored aws-local-stepfunctions', () => {
  const record = readJson(join(VENDORED, 'vendor.json')) as { version: string; sha256: Record<string, string> };

  it('is the published code, byte for byte', () => {
    expect(Object.keys(record.sha256)).toContain('build/main.node.esm.js');
    for (const [file, expected] of Object.entries(record.sha256)) {
      const actual = createHash('sha256').update(readFileSync(join(VENDORED, file))).digest('hex');
      expect(actual, file).toBe(expected);
    }
  });

  it('is the copy the project resolves, with the project’s engines range', () => {
    const require = createRequire(join(ROOT, 'package.json'));
    const entry = realpathSync(require.resolve('aws-local-stepfunctions'));
    expect(relative(VENDORED, dirname(entry))).toBe('build');
    const manifest = readJson(join(VENDORED, 'package.json'));
    expect(manifest.version).toBe(record.version);
    expect(manifest.engines.node).toBe(readJson(join(ROOT, 'package.json')).engines.node);
  });

  it('runs a Task, a Choice and a Map on this Node', async () => {
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine({
      StartAt: 'Double',
      States: {
        Double: { Type: 'Map', ItemsPath: '$.values', ItemProcessor: {
          StartAt: 'Times2', States: { Times2: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:times2', End: true } },
        }, ResultPath: '$.doubled', Next: 'Big?' },
        'Big?': { Type: 'Choice', Choices: [{ Variable: '$.doubled[0]', NumericGreaterThan: 5, Next: 'Big' }], Default: 'Small' },
        Big: { Type: 'Pass', Result: 'big', ResultPath: '$.size', End: true },
        Small: { Type: 'Pass', Result: 'small', ResultPath: '$.size', End: true },
      },
    });
    const execution = machine.run(
      { values: [3, 4] },
      { overrides: { taskResourceLocalHandlers: { Times2: async (n) => (n as number) * 2 } } },
    );
    await expect(execution.result).resolves.toEqual({ values: [3, 4], doubled: [6, 8], size: 'big' });
  });
});
