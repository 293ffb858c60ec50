/**
 * A job a workflow execution runs belongs to that execution: a Describe never takes it over, even
 * when it read the job's document a moment before the executor recorded the execution on it (the
 * race that once started a second engine-job execution, and a second Plan, for one predictor).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import type { ExecutionStatus } from '../../shared/ports';
import type { JobExecutor } from '../../engine/executor';
import { DEFAULT_TIMING, ResourceLifecycle } from '../../engine/lifecycle';
import { Repository, resourceArn, type ResourceDoc } from '../../engine/repository';

const STATE_URI = 's3://bucket/.engine';
const EXECUTION = 'arn:aws:states:us-east-1:000000000000:execution:EngineJobStateMachine:predictor-p1-0000';

/** An executor that records what it was asked to start; its executions are all RUNNING. */
function recordingExecutor(running: Set<string>) {
  const started: string[] = [];
  const executor: JobExecutor = {
    start: (doc) => void started.push(doc.arn),
    isRunning: (arn) => running.has(arn),
    executionStatus: async (): Promise<ExecutionStatus> => 'RUNNING',
    onProgress: () => () => undefined,
    idle: async () => undefined,
    close: async () => undefined,
  };
  return { executor, started };
}

/** A repository whose next `get` answers an older copy of the document (what a read just before a write sees). */
class StaleOnceRepository extends Repository {
  stale: ResourceDoc | undefined;
  override async get(arn: string): Promise<ResourceDoc | undefined> {
    const stale = this.stale;
    this.stale = undefined;
    return stale ?? super.get(arn);
  }
}

/** A job document `name` in `status`, owned by a process on another host whose lease ran out a minute ago. */
function jobOf(name: string, status: ResourceDoc['status']): ResourceDoc {
  const now = new Date().toISOString();
  return {
    type: 'predictor',
    arn: resourceArn('us-east-1', '000000000000', 'predictor', name),
    name,
    status,
    creationTime: now,
    lastModificationTime: now,
    request: {},
    owner: { pid: 1, host: 'another-host', instance: 'gone', heartbeatAt: new Date(Date.now() - 60_000).toISOString() },
    attempts: 1,
  };
}

describe('Engine lifecycle: jobs run by a workflow execution', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** A lifecycle over a folder store with `repo`, and an executor that records what it is asked to start. */
  async function lifecycleWith(makeRepo: (store: FolderObjectStore) => Repository) {
    root = await mkdtemp(join(tmpdir(), 'lifecycle-exec-'));
    const store = new FolderObjectStore(root);
    const repo = makeRepo(store);
    const { executor, started } = recordingExecutor(new Set());
    const lifecycle = new ResourceLifecycle({ store, repo, executor, region: 'us-east-1', account: '000000000000', timing: DEFAULT_TIMING, concurrentJobs: 3 });
    return { store, repo, started, lifecycle };
  }

  it('does not take over (or start again) a job whose execution was recorded after the Describe read its document', async () => {
    // Prepare: stored, the document the executor wrote once it started the execution (no owner, its
    // execution named); read by the Describe, the copy from before that write (the creating process
    // as owner, no execution), and by now the executor no longer counts the job as starting.
    const { store, repo, started, lifecycle } = await lifecycleWith((store) => new StaleOnceRepository(store, STATE_URI));
    const beforeStart = jobOf('p1', 'CREATE_PENDING');
    const arn = beforeStart.arn;
    const { owner: _owner, ...afterStart } = beforeStart;
    await repo.put({ ...afterStart, execution: EXECUTION });
    (repo as StaleOnceRepository).stale = beforeStart;

    // Act
    const read = await lifecycle.read(arn);

    // Assess
    expect(started).toEqual([]);
    expect(read?.attempts ?? 1).toBe(1);
    const stored = await new Repository(store, STATE_URI).get(arn);
    expect(stored).toMatchObject({ status: 'CREATE_PENDING', execution: EXECUTION, attempts: 1 });
    expect(stored!.owner).toBeUndefined();
    expect(stored!.message).toBeUndefined();
  });

  it('still takes over a job with no execution whose owner is gone (the in-process executor\'s jobs)', async () => {
    // Prepare
    const { repo, started, lifecycle } = await lifecycleWith((store) => new Repository(store, STATE_URI));
    const job = jobOf('p2', 'CREATE_IN_PROGRESS');
    const arn = job.arn;
    await repo.put(job);

    // Act
    const read = await lifecycle.read(arn);

    // Assess
    expect(started).toEqual([arn]);
    expect(read).toMatchObject({ attempts: 2, message: expect.stringMatching(/^Resumed by pid \d+/) });
  });
});
