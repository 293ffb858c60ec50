/**
 * The local execution registry: what Step Functions remembers about executions, kept as one
 * JSON file per execution name under `<root>/executions/`. It makes execution names behave as
 * in Step Functions — a name with the same input never runs twice — across processes.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { jsonHash } from '../shared/json';

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const executionRecordSchema = z.object({
  name: z.string(),
  executionArn: z.string(),
  inputHash: z.string(),
  input: z.unknown(),
  status: z.enum(EXECUTION_STATUSES),
  startDate: z.string(),
  stopDate: z.string().optional(),
  /** Process that runs (ran) it: a RUNNING record whose process is gone was interrupted. */
  pid: z.number().int(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  /** How many times the execution was started (1, or more after an interrupted run resumed). */
  attempts: z.number().int().positive().default(1),
});
export type ExecutionRecord = z.infer<typeof executionRecordSchema>;

export { canonicalJson } from '../shared/json';
/** The hash the registry compares inputs by. */
export const inputHash = jsonHash;

/** Whether a process id is alive on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ExecutionRegistry {
  constructor(readonly folder: string) {}

  private fileOf(name: string): string {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new Error(`Not a valid execution name: ${JSON.stringify(name)}`);
    return join(this.folder, `${name}.json`);
  }

  async get(name: string): Promise<ExecutionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return executionRecordSchema.parse(JSON.parse(text));
  }

  /**
   * Writes a record atomically (temporary file renamed into place). The temporary name is unique
   * per write: two writes of one record in the same process must not share it.
   */
  async put(record: ExecutionRecord): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const file = this.fileOf(record.name);
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temporary, file);
  }

  /**
   * Records a new execution only when none of that name exists — atomically, also across
   * processes (exclusive create), as Step Functions' StartExecution is. Returns false when the
   * name was taken first.
   */
  async create(record: ExecutionRecord): Promise<boolean> {
    await mkdir(this.folder, { recursive: true });
    const file = this.fileOf(record.name);
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
    try {
      // link() never replaces: the first creator wins, and a reader never sees half a file.
      await link(temporary, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temporary);
    }
  }

  /** Every execution, newest first. */
  async list(): Promise<ExecutionRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.folder)).filter((f) => f.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = await Promise.all(names.map((f) => this.get(f.slice(0, -'.json'.length))));
    return records
      .filter((r): r is ExecutionRecord => r !== undefined)
      .sort((a, b) => (a.startDate < b.startDate ? 1 : a.startDate > b.startDate ? -1 : 0));
  }
}
