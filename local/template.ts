/**
 * Reads the SAM template the way the local runner needs it: which function (and which handler
 * file) stands behind each `${Placeholder}` of the state machine definition. The template is the
 * map — the local runner never keeps its own list of steps.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse, type ScalarTag, type CollectionTag, isMap, isSeq } from 'yaml';
import { ConfigurationError } from '../shared/errors';

/** A `AWS::Serverless::Function` with the file and export that hold its handler. */
export interface FunctionHandler {
  readonly logicalId: string;
  /** Absolute path of the handler module (TypeScript source when it exists). */
  readonly file: string;
  /** Name of the exported handler function (`handler` for `handler.handler`). */
  readonly exportName: string;
  /** The function's timeout in seconds (Properties, then Globals, then Lambda's default 3). */
  readonly timeoutSeconds: number;
  /** Environment variables the template sets on the function (only plain strings). */
  readonly environment: Readonly<Record<string, string>>;
}

/** What each `${Name}` of the state machine definition stands for. */
export type Substitution =
  | { readonly kind: 'function'; readonly name: string; readonly fn: FunctionHandler; readonly arn: string }
  | { readonly kind: 'other'; readonly name: string; readonly value: string };

export interface StateMachineTemplate {
  readonly logicalId: string;
  /** Absolute path of the ASL file (`DefinitionUri`). */
  readonly definitionFile: string;
  readonly substitutions: ReadonlyMap<string, Substitution>;
}

const INTRINSICS = [
  'Ref', 'Sub', 'GetAtt', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap',
  'ImportValue', 'Base64', 'Condition', 'GetAZs', 'Cidr', 'Transform', 'Length', 'ToJsonString',
] as const;

/** CloudFormation short forms (`!GetAtt A.Arn`, `!Sub [..]`) as their long `Fn::` objects. */
function cloudFormationTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const name of INTRINSICS) {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    const tag = `!${name}`;
    tags.push({
      tag,
      resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }),
    } as ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag,
        collection,
        resolve: (node: unknown) => ({
          [key]: isMap(node) || isSeq(node) ? (node as { toJSON(): unknown }).toJSON() : node,
        }),
      } as CollectionTag);
    }
  }
  return tags;
}

/** Parses a CloudFormation/SAM YAML text, keeping intrinsic functions as `Fn::` objects. */
export function parseTemplate(text: string): Record<string, unknown> {
  const document = parse(text, { customTags: cloudFormationTags(), strict: false, uniqueKeys: false });
  if (!document || typeof document !== 'object') throw new ConfigurationError('template.yaml is empty or not a mapping');
  return document as Record<string, unknown>;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});

/** The logical id a substitution value points at (`!GetAtt X.Arn`, `!Ref X`, `!Sub ${X.Arn}`), if any. */
export function referencedLogicalId(value: unknown): string | undefined {
  const object = asObject(value);
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  if (typeof object.Ref === 'string') return object.Ref;
  const sub = object['Fn::Sub'];
  const subText = Array.isArray(sub) ? sub[0] : sub;
  if (typeof subText === 'string') {
    const match = /^\$\{([A-Za-z0-9]+)(?:\.Arn)?\}$/.exec(subText.trim());
    if (match) return match[1];
  }
  return undefined;
}

function handlerFile(root: string, logicalId: string, properties: Json, globals: Json): { file: string; exportName: string } {
  const codeUri = String(properties.CodeUri ?? globals.CodeUri ?? '.');
  const handler = properties.Handler ?? globals.Handler;
  if (typeof handler !== 'string' || !handler.includes('.')) {
    throw new ConfigurationError(`Function ${logicalId}: Handler must be "<module>.<export>", got ${JSON.stringify(handler)}`);
  }
  const exportName = handler.slice(handler.lastIndexOf('.') + 1);
  const modulePath = handler.slice(0, handler.lastIndexOf('.'));
  const metadata = asObject(asObject(properties.__metadata).BuildProperties);
  const entryPoints = Array.isArray(metadata.EntryPoints) ? metadata.EntryPoints.map(String) : [];
  // The build's entry points name the source (CodeUri/Handler then name the bundle); else the handler path.
  const bases = [...entryPoints.map((e) => join(root, codeUri, e.replace(/\.[cm]?[jt]s$/, ''))), join(root, codeUri, modulePath)];
  const tried: string[] = [];
  for (const base of bases) {
    for (const extension of ['.ts', '.mts', '.js', '.mjs']) {
      const candidate = base + extension;
      tried.push(candidate);
      if (existsSync(candidate)) return { file: candidate, exportName };
    }
  }
  throw new ConfigurationError(`Function ${logicalId}: no handler module found (tried ${tried.join(', ')})`);
}

function plainEnvironment(properties: Json, globals: Json): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const source of [globals, properties]) {
    const variables = asObject(asObject(source.Environment).Variables);
    for (const [name, value] of Object.entries(variables)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') environment[name] = String(value);
    }
  }
  return environment;
}

/** The function behind a logical id, with its handler resolved to a file under `root`. */
export function functionHandler(template: Json, logicalId: string, root: string): FunctionHandler {
  const resources = asObject(template.Resources);
  const resource = asObject(resources[logicalId]);
  if (resource.Type !== 'AWS::Serverless::Function') {
    throw new ConfigurationError(`${logicalId} is not an AWS::Serverless::Function in template.yaml (Type: ${String(resource.Type)})`);
  }
  const properties: Json = { ...asObject(resource.Properties), __metadata: asObject(resource.Metadata) };
  const globals = asObject(asObject(template.Globals).Function);
  const { file, exportName } = handlerFile(root, logicalId, properties, globals);
  const timeout = Number(properties.Timeout ?? globals.Timeout ?? 3);
  return {
    logicalId,
    file,
    exportName,
    timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 3,
    environment: plainEnvironment(properties, globals),
  };
}

/** The engine-job workflow's file (its state machine is deployed only with ForecastBackend=builtin). */
export const ENGINE_JOB_DEFINITION = 'statemachine/engine-job.asl.json';

/**
 * A state machine of the template, and what each of its `DefinitionSubstitutions` resolves to — the
 * template is the map for every workflow run locally, so a renamed function or placeholder cannot
 * drift. `definitionUri` picks the machine by its file; without it, the pipeline's: the one
 * unconditional machine (the engine-job machine has a Condition).
 */
export async function readStateMachineTemplate(templateFile: string, definitionUri?: string): Promise<StateMachineTemplate> {
  const root = dirname(resolve(templateFile));
  const template = parseTemplate(await readFile(templateFile, 'utf8'));
  const resources = asObject(template.Resources);
  const machines = Object.entries(resources).filter(([, r]) => {
    const properties = asObject(asObject(r).Properties);
    if (asObject(r).Type !== 'AWS::Serverless::StateMachine' || typeof properties.DefinitionUri !== 'string') return false;
    return definitionUri === undefined ? asObject(r).Condition === undefined : properties.DefinitionUri === definitionUri;
  });
  if (machines.length !== 1) {
    const which = definitionUri === undefined ? 'unconditional AWS::Serverless::StateMachine with a DefinitionUri' : `AWS::Serverless::StateMachine with DefinitionUri ${definitionUri}`;
    throw new ConfigurationError(`template.yaml must hold exactly one ${which}, found ${machines.length}`);
  }
  const [logicalId, machine] = machines[0]!;
  const properties = asObject(asObject(machine).Properties);
  const substitutions = new Map<string, Substitution>();
  for (const [name, value] of Object.entries(asObject(properties.DefinitionSubstitutions))) {
    const target = referencedLogicalId(value);
    if (target && asObject(resources[target]).Type === 'AWS::Serverless::Function') {
      substitutions.set(name, {
        kind: 'function',
        name,
        fn: functionHandler(template, target, root),
        arn: `arn:aws:lambda:us-east-1:000000000000:function:${target}`,
      });
    } else {
      const literal = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      substitutions.set(name, {
        kind: 'other',
        name,
        value: literal ?? `arn:aws:local:us-east-1:000000000000:${target ?? name}`,
      });
    }
  }
  return { logicalId, definitionFile: join(root, String(properties.DefinitionUri)), substitutions };
}

/** Replaces every `${Name}` of the ASL text by what the template substitutes for it. */
export function substituteDefinition(text: string, substitutions: ReadonlyMap<string, Substitution>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const substitution = substitutions.get(name);
    if (!substitution) throw new ConfigurationError(`The state machine uses \${${name}} but template.yaml does not substitute it`);
    return substitution.kind === 'function' ? substitution.arn : substitution.value;
  });
}

/** The function an SQS queue triggers (the parse function): where messages enter the pipeline. */
export async function readQueueFunction(templateFile: string): Promise<FunctionHandler> {
  const root = dirname(resolve(templateFile));
  const template = parseTemplate(await readFile(templateFile, 'utf8'));
  const consumers = Object.entries(asObject(template.Resources)).filter(
    ([, r]) =>
      asObject(r).Type === 'AWS::Serverless::Function' &&
      Object.values(asObject(asObject(asObject(r).Properties).Events)).some((event) => asObject(event).Type === 'SQS'),
  );
  if (consumers.length !== 1) {
    throw new ConfigurationError(`template.yaml must hold exactly one function with an SQS event, found ${consumers.length}`);
  }
  return functionHandler(template, consumers[0]![0], root);
}
