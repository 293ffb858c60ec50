import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DescribePredictorCommand, ListPredictorsCommand } from '@aws-sdk/client-forecast';
import { WorkerCrashed, WorkerPool } from '../../engine/pool';
import { Repository } from '../../engine/repository';
import { dailyCsv, describePredictor, importedGroup, useEngineFixture, waitFor, type EngineFixture } from './engine-helpers';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Starts a separate engine process that creates a predictor and then hangs; resolves with the process once created. */
async function predictorInDyingProcess(fx: EngineFixture, DatasetGroupArn: string) {
  const script = join(fx.root, 'child.mts');
  const sdk = pathToFileURL(createRequire(import.meta.url).resolve('@aws-sdk/client-forecast')).href;
  await writeFile(
    script,
    `
import { CreatePredictorCommand } from ${JSON.stringify(sdk)};
import { createBuiltinForecast } from ${JSON.stringify(join(repoRoot, 'engine/client.ts'))};
import { FolderObjectStore } from ${JSON.stringify(join(repoRoot, 'shared/adapters/folder-store.ts'))};
const engine = createBuiltinForecast({ store: new FolderObjectStore(${JSON.stringify(fx.root)}), stateUri: 's3://bucket/.engine', timing: { pendingMs: 600000, heartbeatMs: 600000 } });
const out = await engine.send(new CreatePredictorCommand({
  PredictorName: 'orphan', AlgorithmArn: 'arn:aws:forecast:::algorithm/NPTS', ForecastHorizon: 5,
  InputDataConfig: { DatasetGroupArn: ${JSON.stringify(DatasetGroupArn)} }, FeaturizationConfig: { ForecastFrequency: 'D' },
}));
console.log('CREATED ' + out.PredictorArn);
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, [join(repoRoot, 'bin/run-ts.mjs'), script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const arn = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /CREATED (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  return { child, arn };
}

describe('Engine lifecycle: a process that dies mid-job', () => {
  const fx = useEngineFixture();

  it('resumes the job of a killed engine process on the next Describe and finishes it', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b'], 40));
    const { child, arn } = await predictorInDyingProcess(fx, DatasetGroupArn);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // Act
    const listed = await fx.engine.send(new ListPredictorsCommand({}));
    const [first] = await Promise.all([1, 2, 3].map(() => fx.engine.send(new DescribePredictorCommand({ PredictorArn: arn }))));
    const final = await waitFor(() => describePredictor(fx, arn));
    const stored = await new Repository(fx.store, 's3://bucket/.engine').get(arn);

    // Assess
    expect(listed.Predictors![0]).toMatchObject({ Status: 'CREATE_PENDING' });
    expect(listed.Predictors![0]!.Message).toBeUndefined();
    expect(first!.Status).toMatch(/CREATE_PENDING|CREATE_IN_PROGRESS/);
    expect(first!.Message).toMatch(/Resumed by pid \d+: the process running it \(pid \d+ on .*\) stopped/);
    expect(final.Status).toBe('ACTIVE');
    expect(stored!.attempts).toBe(2); // three concurrent Describes, one takeover
  });

  it('marks the job CREATE_FAILED with a message once it has been taken over too often', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    const { child, arn } = await predictorInDyingProcess(fx, DatasetGroupArn);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const repo = new Repository(fx.store, 's3://bucket/.engine');
    const doc = (await repo.get(arn))!;
    await repo.put({ ...doc, attempts: 3 });

    // Act
    const out = await describePredictor(fx, arn);

    // Assess
    expect(out.Status).toBe('CREATE_FAILED');
    expect(out.Message).toMatch(/stopped before it finished, 3 time\(s\); giving up/);
  });

  it('takes over a job whose heartbeat is older than the lease even if the pid is alive', async () => {
    // Prepare
    const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a'], 40));
    const { child, arn } = await predictorInDyingProcess(fx, DatasetGroupArn);
    const repo = new Repository(fx.store, 's3://bucket/.engine');
    const doc = (await repo.get(arn))!;
    await repo.put({ ...doc, owner: { ...doc.owner!, heartbeatAt: new Date(Date.now() - 60_000).toISOString() } });

    // Act
    const final = await waitFor(() => describePredictor(fx, arn));
    child.kill('SIGKILL');

    // Assess
    expect(final.Status).toBe('ACTIVE');
  });
});

describe('Class: WorkerPool', () => {
  it('rejects with WorkerCrashed when a worker thread dies (after one retry) and keeps serving', async () => {
    // Prepare
    const pool = new WorkerPool(1);

    // Act
    const crashed = await pool.run({ kind: 'crash' }).catch((e: unknown) => e);
    const after = await pool.run({ kind: 'fit', algorithm: 'NAIVE', params: {}, horizon: 2, quantiles: [0.5], series: [{ values: Float64Array.of(1, 2, 3), seasonLength: 1 }] });
    await pool.close();

    // Assess
    expect(crashed).toBeInstanceOf(WorkerCrashed);
    expect(Array.from(after[0]!.mean)).toEqual([3, 3]);
  });

  it('runs fits without blocking the event loop', async () => {
    // Prepare
    const pool = new WorkerPool(1);
    const long = Float64Array.from({ length: 400 }, (_, i) => 10 + Math.sin(i / 3) + (i % 7));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);

    // Act
    await pool.run({ kind: 'fit', algorithm: 'ETS', params: {}, horizon: 14, quantiles: [0.1, 0.9], series: Array.from({ length: 4 }, () => ({ values: long, seasonLength: 7 })) });
    clearInterval(timer);
    await pool.close();

    // Assess
    expect(ticks).toBeGreaterThan(2);
  });
});
