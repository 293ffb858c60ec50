/** template.yaml parsed with the `yaml` package and CloudFormation's short-form tags. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type CollectionTag, type ScalarTag } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const INTRINSICS = ['Ref', 'Condition', 'GetAtt', 'Sub', 'If', 'Not', 'Equals', 'And', 'Or', 'Join', 'Select', 'Split', 'FindInMap', 'Base64', 'ImportValue', 'GetAZs', 'Cidr'];

function tags(): (ScalarTag | CollectionTag)[] {
  return INTRINSICS.flatMap((name): (ScalarTag | CollectionTag)[] => {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    const wrap = (value: unknown) => ({ [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value });
    return [
      { tag: `!${name}`, resolve: (value: string) => wrap(value) },
      { tag: `!${name}`, collection: 'seq', resolve: (seq) => wrap((seq as { toJSON(): unknown }).toJSON()) },
      { tag: `!${name}`, collection: 'map', resolve: (map) => wrap((map as { toJSON(): unknown }).toJSON()) },
    ];
  });
}

export type Json = Record<string, any>;

export function loadTemplate(): Json {
  return parse(readFileSync(join(ROOT, 'template.yaml'), 'utf8'), { customTags: tags() }) as Json;
}

export function resourcesOfType(template: Json, type: string): [string, Json][] {
  return Object.entries(template.Resources as Json).filter(([, r]) => r.Type === type) as [string, Json][];
}

/** Every IAM statement a function is granted (inline Statement blocks of its Policies). */
export function statementsOf(fn: Json): Json[] {
  const policies: unknown[] = fn.Properties.Policies ?? [];
  return policies.flatMap((p: any) => (p && Array.isArray(p.Statement) ? p.Statement : []));
}

/** SAM policy templates a function uses (names), e.g. S3ReadPolicy, also inside Fn::If. */
export function policyTemplatesOf(fn: Json): string[] {
  const names: string[] = [];
  const visit = (p: any) => {
    if (!p || typeof p !== 'object') return;
    if (Array.isArray(p['Fn::If'])) return p['Fn::If'].slice(1).forEach(visit);
    for (const key of Object.keys(p)) if (key !== 'Statement' && key !== 'Ref') names.push(key);
  };
  (fn.Properties.Policies ?? []).forEach(visit);
  return names;
}

export const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The template as CloudFormation sees it for the given parameter values: conditions that depend
 * only on them are decided, resources and outputs under a false condition dropped, `Fn::If` on a
 * decided condition replaced by its branch (`AWS::NoValue` removes the entry) and `Ref` to a given
 * parameter replaced by its value. Conditions on other parameters stay as they are.
 */
export function resolveFor(template: Json, parameters: Record<string, string>): Json {
  const conditions = (template.Conditions ?? {}) as Json;
  const decided = new Map<string, boolean | undefined>();
  const evaluate = (node: any): boolean | undefined => {
    if (node && typeof node === 'object') {
      if ('Condition' in node) return decide(node.Condition);
      if ('Fn::Not' in node) {
        const inner = evaluate(node['Fn::Not'][0]);
        return inner === undefined ? undefined : !inner;
      }
      if ('Fn::And' in node || 'Fn::Or' in node) {
        const values = (node['Fn::And'] ?? node['Fn::Or']).map(evaluate);
        if (values.includes(undefined)) return undefined;
        return 'Fn::And' in node ? values.every(Boolean) : values.some(Boolean);
      }
      if ('Fn::Equals' in node) {
        const [a, b] = (node['Fn::Equals'] as any[]).map((v) => (v && typeof v === 'object' && 'Ref' in v ? parameters[v.Ref] : v));
        return a === undefined || b === undefined ? undefined : a === b;
      }
    }
    return undefined;
  };
  const decide = (name: string): boolean | undefined => {
    if (!decided.has(name)) decided.set(name, evaluate(conditions[name]));
    return decided.get(name);
  };
  const NONE = Symbol('no value');
  const walk = (node: any): any => {
    if (Array.isArray(node)) return node.map(walk).filter((v) => v !== NONE);
    if (!node || typeof node !== 'object') return node;
    if (Array.isArray(node['Fn::If'])) {
      const [name, whenTrue, whenFalse] = node['Fn::If'];
      const value = decide(name);
      if (value !== undefined) return walk(value ? whenTrue : whenFalse);
      // Undecided: both branches stay, AWS::NoValue included (it is CloudFormation's to drop).
      const branch = (b: any) => (b && b.Ref === 'AWS::NoValue' ? b : walk(b));
      return { 'Fn::If': [name, branch(whenTrue), branch(whenFalse)] };
    }
    if (node.Ref === 'AWS::NoValue') return NONE;
    if (typeof node.Ref === 'string' && node.Ref in parameters && Object.keys(node).length === 1) return parameters[node.Ref];
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (value && typeof value === 'object' && typeof (value as Json).Condition === 'string' && decide((value as Json).Condition) === false) continue;
      const walked = walk(value);
      if (walked !== NONE) out[key] = walked;
    }
    return out;
  };
  return walk(template) as Json;
}
