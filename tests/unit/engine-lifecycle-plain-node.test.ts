import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('Engine under plain node (bundled, worker.js beside client.js)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-plain-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('trains in worker threads without tsx', async () => {
    // Prepare: bundle the engine and its worker entry as plain ESM JavaScript (engine/client.js + engine/worker.js)
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    await build({
      entryPoints: [join(repoRoot, 'engine/client.ts'), join(repoRoot, 'engine/worker.ts'), join(repoRoot, 'shared/adapters/folder-store.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: dir,
      logLevel: 'silent',
    });
    await writeFile(
      join(dir, 'run.mjs'),
      `
import * as sdk from '@aws-sdk/client-forecast';
import { createBuiltinForecast } from './engine/client.js';
import { FolderObjectStore } from './shared/adapters/folder-store.js';
const store = new FolderObjectStore(${JSON.stringify(join(dir, 'store'))});
const engine = createBuiltinForecast({ store, stateUri: 's3://b/.engine', workers: 1, timing: { pendingMs: 1 } });
const rows = [];
for (let d = 0; d < 40; d++) rows.push(new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10) + ',a,' + (10 + (d % 7)));
await store.put('s3://b/t.csv', rows.join('\\n'));
const schema = { Attributes: ['timestamp', 'item_id', 'target_value'].map((n) => ({ AttributeName: n, AttributeType: n === 'target_value' ? 'float' : n === 'timestamp' ? 'timestamp' : 'string' })) };
const { DatasetArn } = await engine.send(new sdk.CreateDatasetCommand({ DatasetName: 'T', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'D', Schema: schema }));
const { DatasetGroupArn } = await engine.send(new sdk.CreateDatasetGroupCommand({ DatasetGroupName: 'G', Domain: 'CUSTOM', DatasetArns: [DatasetArn] }));
await engine.send(new sdk.CreateDatasetImportJobCommand({ DatasetImportJobName: 'I', DatasetArn, DataSource: { S3Config: { Path: 's3://b/t.csv', RoleArn: 'r' } }, TimestampFormat: 'yyyy-MM-dd' }));
await engine.idle();
const { PredictorArn } = await engine.send(new sdk.CreatePredictorCommand({ PredictorName: 'P', AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS', ForecastHorizon: 5, InputDataConfig: { DatasetGroupArn }, FeaturizationConfig: { ForecastFrequency: 'D' } }));
await engine.idle();
const out = await engine.send(new sdk.DescribePredictorCommand({ PredictorArn }));
console.log(JSON.stringify({ status: out.Status, message: out.Message }));
await engine.close();
`,
    );

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'run.mjs')], { cwd: dir, timeout: 60_000 });

    // Assess
    expect(JSON.parse(stdout.trim())).toEqual({ status: 'ACTIVE' });
  });
});
