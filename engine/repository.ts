/**
 * The engine's resources as JSON documents in the object store, one object per resource under
 * `<stateUri>/resources/<type>/<id>.json` — on the folder store locally, on S3 when deployed.
 * Several processes (or Lambdas) may share them: a document is created once (If-None-Match: *)
 * and updated by compare-and-swap on its version (If-Match), retried on conflict, so no writer's
 * change is lost and a name is never created twice.
 */
import { hostname } from 'node:os';
import type { ObjectStore } from '../shared/ports';

/** By name, not class: a store from another bundle (or copy of the port module) throws its own class. */
const isNotFound = (error: unknown) => (error as Error | undefined)?.name === 'ObjectNotFound';
const isConflict = (error: unknown) => (error as Error | undefined)?.name === 'PreconditionFailed';

/** Compare-and-swap rounds of one update before it gives up (each re-reads and re-applies the change). */
const UPDATE_ATTEMPTS = 100;
const CONFLICT_BACKOFF_MS = 5;

/** A Create found a document already stored under its name. */
export class DocumentExists extends Error {
  override readonly name = 'DocumentExists' as const;
  constructor(readonly arn: string) {
    super(`A resource document already exists for ${arn}`);
  }
}

export const RESOURCE_TYPES = [
  'dataset',
  'dataset-group',
  'dataset-import-job',
  'predictor',
  'forecast',
  'forecast-export-job',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export type ResourceStatus =
  | 'ACTIVE'
  | 'CREATE_PENDING'
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'DELETE_PENDING'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'UPDATE_PENDING'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_FAILED';

/** A job that has not finished: it has (or should have) a running owner. */
export const IN_PROGRESS: ReadonlySet<ResourceStatus> = new Set(['CREATE_PENDING', 'CREATE_IN_PROGRESS']);

/** Which process runs a job, and when it last said so (the lease). */
export interface JobOwner {
  readonly pid: number;
  readonly host: string;
  /** Per-process random id: a restarted process with a recycled pid is still another owner. */
  readonly instance: string;
  readonly heartbeatAt: string;
}

export interface ResourceDoc {
  readonly type: ResourceType;
  readonly arn: string;
  readonly name: string;
  status: ResourceStatus;
  message?: string;
  readonly creationTime: string;
  lastModificationTime: string;
  /** ARN of the parent the delete rules refer to (dataset for an import job, group for a predictor, …). */
  readonly parentArn?: string;
  /** The Create request as received (JSON). Dataset groups update `DatasetArns` in place. */
  request: Record<string, unknown>;
  /** Job bookkeeping: the process running it (in-process executor)… */
  owner?: JobOwner;
  /** …or the execution of statemachine/engine-job.asl.json running it (workflow executor). */
  execution?: string;
  attempts?: number;
  progress?: { done: number; total: number };
  /** When a DELETE_IN_PROGRESS resource disappears. */
  deleteAt?: string;
  /** What the job produced (object URIs of data, metrics, chosen algorithms, …). */
  result?: Record<string, unknown>;
}

export const processIdentity = {
  pid: process.pid,
  host: hostname(),
  instance: `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
};

/** ARN text of a resource: `arn:aws:forecast:<region>:<account>:<type>/<id>`. */
export function resourceArn(region: string, account: string, type: ResourceType, id: string): string {
  return `arn:aws:forecast:${region}:${account}:${type}/${id}`;
}

/** `{ type, id }` of an engine ARN, or undefined when the text is not one. */
export function parseArn(arn: string): { type: ResourceType; id: string } | undefined {
  const match = /^arn:aws[a-z-]*:forecast:[^:]*:[^:]*:([a-z-]+)\/(.+)$/.exec(arn);
  if (!match || !(RESOURCE_TYPES as readonly string[]).includes(match[1]!)) return undefined;
  return { type: match[1] as ResourceType, id: match[2]! };
}

export class Repository {
  /** Serialises read-modify-write per ARN inside this process. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ObjectStore,
    readonly stateUri: string,
  ) {}

  uriOf(arn: string): string {
    const parsed = parseArn(arn);
    if (!parsed) throw new Error(`Not an engine ARN: ${arn}`);
    return `${this.stateUri.replace(/\/$/, '')}/resources/${parsed.type}/${parsed.id}.json`;
  }

  /** Object URI for a job's data (imported series, predictions, …). */
  dataUri(type: ResourceType, id: string, file: string): string {
    return `${this.stateUri.replace(/\/$/, '')}/data/${type}/${id}/${file}`;
  }

  async get(arn: string): Promise<ResourceDoc | undefined> {
    return (await this.load(arn))?.doc;
  }

  private async load(arn: string): Promise<{ doc: ResourceDoc; version: string } | undefined> {
    try {
      const { body, version } = await this.store.getVersioned(this.uriOf(arn));
      return { doc: JSON.parse(body.toString('utf8')) as ResourceDoc, version };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Stores a new document; throws `DocumentExists` when one is stored under its ARN (in any process). */
  async create(doc: ResourceDoc): Promise<void> {
    try {
      await this.store.putIf(this.uriOf(doc.arn), JSON.stringify(doc), { ifNoneMatch: '*' });
    } catch (error) {
      if (isConflict(error)) throw new DocumentExists(doc.arn);
      throw error;
    }
  }

  /** Overwrites a document unconditionally (tools and tests that stage a state; the engine uses `update`). */
  async put(doc: ResourceDoc): Promise<void> {
    await this.store.put(this.uriOf(doc.arn), JSON.stringify(doc));
  }

  async remove(arn: string): Promise<void> {
    await this.store.delete(this.uriOf(arn));
  }

  /**
   * Takes one of `count` job slots of a type for the job `arn` (a job whose document says it is in
   * progress holds its slot until it finishes or is deleted; nothing else frees one). A slot is
   * taken by a create-once write, or by a compare-and-swap over a slot whose holder no longer
   * holds it, so two processes never take the same slot. Answers whether a slot was free.
   */
  async claimJobSlot(type: ResourceType, arn: string, count: number, holds: (doc: ResourceDoc) => boolean): Promise<boolean> {
    const claim = JSON.stringify({ arn });
    for (let slot = 0; slot < count; slot++) {
      const uri = `${this.stateUri.replace(/\/$/, '')}/job-slots/${type}/${slot}.json`;
      try {
        await this.store.putIf(uri, claim, { ifNoneMatch: '*' });
        return true;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      let held: { body: Buffer; version: string };
      try {
        held = await this.store.getVersioned(uri);
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      const holder = (JSON.parse(held.body.toString('utf8')) as { arn: string }).arn;
      const holderDoc = holder === arn ? undefined : await this.get(holder);
      if (holderDoc && holds(holderDoc)) continue;
      try {
        await this.store.putIf(uri, claim, { ifMatch: held.version });
        return true;
      } catch (error) {
        if (!isConflict(error)) throw error; // another claimer took it first: try the next slot
      }
    }
    return false;
  }

  /** All documents of one type (unordered semantics; sorted by creation time). */
  async list(type: ResourceType): Promise<ResourceDoc[]> {
    const prefix = `${this.stateUri.replace(/\/$/, '')}/resources/${type}/`;
    const objects = await this.store.list(prefix);
    const docs: ResourceDoc[] = [];
    for (const object of objects) {
      if (!object.uri.endsWith('.json')) continue;
      try {
        docs.push(JSON.parse((await this.store.get(object.uri)).toString('utf8')) as ResourceDoc);
      } catch (error) {
        if (!isNotFound(error)) throw error; // deleted between list and get
      }
    }
    return docs.sort((a, b) => a.creationTime.localeCompare(b.creationTime) || a.arn.localeCompare(b.arn));
  }

  /**
   * Read-modify-write of one document: serialised per ARN in this process, compare-and-swap against
   * other processes (on a conflict it reads again and applies `change` to the fresh document, so
   * `change` must decide from the document it is given). Returns the new doc.
   * `change` may answer `'delete'` (remove it) or `'unchanged'` (write nothing, return it as read).
   */
  async update(arn: string, change: (doc: ResourceDoc) => void | 'delete' | 'unchanged'): Promise<ResourceDoc | undefined> {
    const previous = this.locks.get(arn) ?? Promise.resolve();
    const next = previous.then(() => this.swap(arn, change));
    const settled = next.catch(() => undefined);
    this.locks.set(arn, settled);
    void settled.then(() => {
      if (this.locks.get(arn) === settled) this.locks.delete(arn);
    });
    return next;
  }

  private async swap(arn: string, change: (doc: ResourceDoc) => void | 'delete' | 'unchanged'): Promise<ResourceDoc | undefined> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(arn);
      if (!loaded) return undefined;
      const { doc, version } = loaded;
      const verdict = change(doc);
      if (verdict === 'delete') {
        await this.remove(arn);
        return undefined;
      }
      if (verdict === 'unchanged') return doc;
      doc.lastModificationTime = new Date().toISOString();
      try {
        await this.store.putIf(this.uriOf(arn), JSON.stringify(doc), { ifMatch: version });
        return doc;
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (attempt >= UPDATE_ATTEMPTS) throw new Error(`${arn} kept changing under ${UPDATE_ATTEMPTS} updates in a row; giving up`);
        await new Promise((resolve) => setTimeout(resolve, CONFLICT_BACKOFF_MS * Math.random() * Math.min(attempt, 10)));
      }
    }
  }
}
