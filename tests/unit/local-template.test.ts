import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTemplate, readQueueFunction, readStateMachineTemplate, referencedLogicalId, substituteDefinition } from '../../local/template';
import { LocalWorkflowStarter } from '../../local/workflow';
import { ExecutionRegistry } from '../../local/executions';
import { PROJECT_ROOT, resolveRoot } from '../../local/config';

const TEMPLATE = join(PROJECT_ROOT, 'template.yaml');

describe('Local template: parseTemplate', () => {
  it('keeps CloudFormation short forms as their Fn:: objects (scalar, sequence and mapping forms)', () => {
    // Act
    const template = parseTemplate(`
A: !GetAtt Fn.Arn
B: !Ref Bucket
C: !Sub '\${Fn.Arn}/*'
D: !If [Cond, !Ref X, '']
E: !Sub
  - 'arn:\${P}'
  - { P: !Ref Y }
`);

    // Assess
    expect(template).toEqual({
      A: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      B: { Ref: 'Bucket' },
      C: { 'Fn::Sub': '${Fn.Arn}/*' },
      D: { 'Fn::If': ['Cond', { Ref: 'X' }, ''] },
      E: { 'Fn::Sub': ['arn:${P}', { P: { Ref: 'Y' } }] },
    });
    expect(referencedLogicalId(template.A)).toBe('Fn');
    expect(referencedLogicalId({ 'Fn::Sub': '${NotifyFunction.Arn}' })).toBe('NotifyFunction');
    expect(referencedLogicalId({ 'Fn::If': [] })).toBeUndefined();
  });
});

describe('Local template: the real template.yaml and state machine', () => {
  it('resolves every Task placeholder of the ASL to a function whose handler file exists', async () => {
    // Act
    const machine = await readStateMachineTemplate(TEMPLATE);
    const asl = readFileSync(machine.definitionFile, 'utf8');
    const placeholders = [...asl.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!);

    // Assess
    expect(placeholders.length).toBeGreaterThan(5);
    for (const name of placeholders) {
      const substitution = machine.substitutions.get(name);
      expect(substitution?.kind, name).toBe('function');
      if (substitution?.kind === 'function') {
        expect(existsSync(substitution.fn.file), substitution.fn.file).toBe(true);
        expect(substitution.fn.file).toMatch(/lambdas[\\/][a-z-]+[\\/]handler\.ts$/);
      }
    }
    expect(() => JSON.parse(substituteDefinition(asl, machine.substitutions))).not.toThrow();
  });

  it('gives every Task state of the definition a local handler and every Retry a local wait', async () => {
    // Prepare
    const starter = new LocalWorkflowStarter({ templateFile: TEMPLATE, registry: new ExecutionRegistry('/nonexistent') });

    // Act
    const { definition, taskHandlers, retryIntervals } = await starter.prepare();

    // Assess
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task').map(([n]) => n);
    expect(Object.keys(taskHandlers).sort()).toEqual(tasks.sort());
    for (const [name, state] of Object.entries(definition.States)) {
      if ('Retry' in state && state.Retry) expect(retryIntervals[name]).toHaveLength(state.Retry.length);
      if (state.Type === 'Task') expect((state as { TimeoutSeconds?: number }).TimeoutSeconds).toBeGreaterThanOrEqual(60);
    }
  });

  it('finds the parse function as the one the SQS queue triggers', async () => {
    // Act
    const fn = await readQueueFunction(TEMPLATE);

    // Assess
    expect(fn.logicalId).toBe('ParseFunction');
    expect(fn.file).toBe(join(PROJECT_ROOT, 'lambdas', 'parse', 'handler.ts'));
    expect(fn.exportName).toBe('handler');
  });
});

describe('Local config: resolveRoot', () => {
  it('takes --root, else FORECAST_LOCAL_ROOT, else .forecast-local in the working directory', () => {
    expect(resolveRoot('/x/flag', { FORECAST_LOCAL_ROOT: '/x/env' }, '/cwd')).toBe('/x/flag');
    expect(resolveRoot(undefined, { FORECAST_LOCAL_ROOT: 'rel' }, '/cwd')).toBe('/cwd/rel');
    expect(resolveRoot(undefined, {}, '/cwd')).toBe('/cwd/.forecast-local');
  });
});
