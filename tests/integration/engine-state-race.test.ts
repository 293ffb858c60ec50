/**
 * Engine state under concurrent writers: several processes (and several engines in one process)
 * sharing one folder store create the same names and update the same documents at once. Every name
 * is created exactly once, no update is lost, and the job limit holds across engines.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateDatasetCommand, CreateDatasetImportJobCommand, LimitExceededException, ResourceAlreadyExistsException } from '@aws-sdk/client-forecast';
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinForecast, type BuiltinForecast } from '../../engine/client';
import { FaultInjector } from '../../engine/faults';
import { Repository, type ResourceDoc } from '../../engine/repository';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { TARGET_SCHEMA } from '../unit/engine-helpers';

const repoRoot = resolve(__dirname, '../..');
const STATE = 's3://bucket/.engine';
const PROCESSES = 4;
const NAMES = 10;
const UPDATES_PER_WRITER = 15;
const WRITERS_PER_PROCESS = 3;

const doc = (name: string): ResourceDoc => {
  const now = new Date().toISOString();
  return { type: 'dataset', arn: `arn:aws:forecast:us-east-1:000000000000:dataset/${name}`, name, status: 'ACTIVE', creationTime: now, lastModificationTime: now, request: { log: [] } };
};

/** One racing process: waits for the go file, creates every shared name, appends to the counter's log. */
const childScript = (root: string, go: string, worker: number) => `
import { existsSync } from 'node:fs';
import { FolderObjectStore } from ${JSON.stringify(join(repoRoot, 'shared/adapters/folder-store.ts'))};
import { Repository } from ${JSON.stringify(join(repoRoot, 'engine/repository.ts'))};
const now = new Date().toISOString();
const doc = (name) => ({ type: 'dataset', arn: 'arn:aws:forecast:us-east-1:000000000000:dataset/' + name, name, status: 'ACTIVE', creationTime: now, lastModificationTime: now, request: { by: ${worker} } });
// Several repositories per process: each has its own in-process lock, so they contend like processes.
const repos = Array.from({ length: ${WRITERS_PER_PROCESS} }, () => new Repository(new FolderObjectStore(${JSON.stringify(root)}), ${JSON.stringify(STATE)}));
console.log('READY');
while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
const won = [];
await Promise.all(Array.from({ length: ${NAMES} }, async (_, k) => {
  try {
    await repos[k % repos.length].create(doc('shared_' + k));
    won.push(k);
  } catch (error) {
    if (error.name !== 'DocumentExists') throw error;
  }
}));
await Promise.all(repos.map(async (repo, w) => {
  for (let i = 0; i < ${UPDATES_PER_WRITER}; i++) {
    await repo.update(${JSON.stringify(doc('counter').arn)}, (d) => { d.request.log = [...d.request.log, '${worker}/' + w + '/' + i]; });
  }
}));
console.log('WON ' + JSON.stringify(won));
`;

function runChild(script: string, onReady: () => void): Promise<number[]> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/run-ts.mjs'), script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      const before = out;
      out += d.toString();
      if (!before.includes('READY') && out.includes('READY')) onReady();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const match = /WON (\[.*\])/.exec(out);
      if (code === 0 && match) resolvePromise(JSON.parse(match[1]!) as number[]);
      else reject(new Error(`race child exited ${code}: ${err}`));
    });
  });
}

describe('Engine state under concurrent writers (folder store)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function freshRoot(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'engine-race-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    return root;
  }

  it(`creates each name once and loses none of ${PROCESSES} processes' updates`, async () => {
    // Prepare
    const root = await freshRoot();
    const repo = new Repository(new FolderObjectStore(root), STATE);
    await repo.create(doc('counter'));
    const go = join(root, 'go');
    let ready = 0;
    const scripts = await Promise.all(
      Array.from({ length: PROCESSES }, async (_, worker) => {
        const path = join(root, `race-${worker}.mts`);
        await writeFile(path, childScript(root, go, worker));
        return path;
      }),
    );

    // Act
    const results = await Promise.all(
      scripts.map((script) =>
        runChild(script, () => {
          if (++ready === PROCESSES) void writeFile(go, '');
        }),
      ),
    );

    // Assess
    const won = results.flat().sort((a, b) => a - b);
    expect(won).toEqual(Array.from({ length: NAMES }, (_, k) => k));
    const log = (await repo.get(doc('counter').arn))!.request.log as string[];
    expect(log).toHaveLength(PROCESSES * WRITERS_PER_PROCESS * UPDATES_PER_WRITER);
    expect(new Set(log).size).toBe(log.length);
    const stored = await repo.list('dataset');
    expect(stored.map((d) => d.name).filter((n) => n.startsWith('shared_'))).toHaveLength(NAMES);
  }, 120_000);

  it('lets one of several engines create a name and holds the job limit across them', async () => {
    // Prepare
    const root = await freshRoot();
    const store = new FolderObjectStore(root);
    const engines: BuiltinForecast[] = Array.from({ length: 4 }, () =>
      // pendingMs keeps the jobs CREATE_PENDING: they count against the limit for the whole test.
      createBuiltinForecast({ store, stateUri: STATE, workers: 1, faults: new FaultInjector([]), timing: { pendingMs: 60_000 } }),
    );
    cleanups.push(async () => {
      for (const engine of engines) await engine.close();
    });
    await store.put('s3://bucket/in/target.csv', '2024-01-01,a,1\n');

    // Act
    const datasets = await Promise.allSettled(
      engines.map((engine) =>
        engine.send(new CreateDatasetCommand({ DatasetName: 'shared', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'D', Schema: TARGET_SCHEMA })),
      ),
    );
    const DatasetArn = datasets.flatMap((d) => (d.status === 'fulfilled' ? [d.value.DatasetArn!] : []))[0]!;
    const imports = await Promise.allSettled(
      engines.flatMap((engine, e) =>
        [0, 1].map((j) =>
          engine.send(
            new CreateDatasetImportJobCommand({
              DatasetImportJobName: `import_${e}_${j}`,
              DatasetArn,
              DataSource: { S3Config: { Path: 's3://bucket/in/target.csv', RoleArn: 'arn:aws:iam::000000000000:role/x' } },
            }),
          ),
        ),
      ),
    );

    // Assess
    expect(datasets.filter((d) => d.status === 'fulfilled')).toHaveLength(1);
    for (const d of datasets.filter((r) => r.status === 'rejected')) expect((d as PromiseRejectedResult).reason).toBeInstanceOf(ResourceAlreadyExistsException);
    const started = imports.filter((i) => i.status === 'fulfilled').length;
    expect(started).toBe(3);
    for (const i of imports.filter((r) => r.status === 'rejected')) expect((i as PromiseRejectedResult).reason).toBeInstanceOf(LimitExceededException);
    const stored = await new Repository(store, STATE).list('dataset-import-job');
    expect(stored).toHaveLength(started);
  }, 60_000);
});
