/**
 * The engine's resources as JSON documents in the object store, one object per resource under
 * `<stateUri>/resources/<type>/<id>.json` — on the folder store locally, on S3 later.
 */
import { hostname } from 'node:os';
import type { ObjectStore } from '../shared/ports';

/** By name, not class: a store from another bundle (or copy of the port module) throws its own class. */
const isNotFound = (error: unknown) => (error as Error | undefined)?.name === 'ObjectNotFound';

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
  /** Job bookkeeping. */
  owner?: JobOwner;
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
    try {
      return JSON.parse((await this.store.get(this.uriOf(arn))).toString('utf8')) as ResourceDoc;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async put(doc: ResourceDoc): Promise<void> {
    await this.store.put(this.uriOf(doc.arn), JSON.stringify(doc));
  }

  async remove(arn: string): Promise<void> {
    await this.store.delete(this.uriOf(arn));
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
   * Read-modify-write of one document, serialised per ARN in this process. Returns the new doc.
   * `change` may answer `'delete'` (remove it) or `'unchanged'` (write nothing, return it as read).
   */
  async update(arn: string, change: (doc: ResourceDoc) => void | 'delete' | 'unchanged'): Promise<ResourceDoc | undefined> {
    const previous = this.locks.get(arn) ?? Promise.resolve();
    const next = previous.then(async () => {
      const doc = await this.get(arn);
      if (!doc) return undefined;
      const verdict = change(doc);
      if (verdict === 'delete') {
        await this.remove(arn);
        return undefined;
      }
      if (verdict === 'unchanged') return doc;
      doc.lastModificationTime = new Date().toISOString();
      await this.put(doc);
      return doc;
    });
    const settled = next.catch(() => undefined);
    this.locks.set(arn, settled);
    void settled.then(() => {
      if (this.locks.get(arn) === settled) this.locks.delete(arn);
    });
    return next;
  }
}
