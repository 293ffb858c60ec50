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
