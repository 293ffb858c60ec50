import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutionRegistry, type ExecutionRecord } from '../../local/executions';

const record = (name: string, attempts = 1): ExecutionRecord => ({
  name,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:m:${name}`,
  inputHash: 'h',
  input: {},
  status: 'RUNNING',
  startDate: new Date().toISOString(),
  pid: process.pid,
  attempts,
});

describe('Local execution registry under concurrency (found by the fault matrix)', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'registry-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('lets exactly one of many concurrent creates of a name win', async () => {
    // Prepare
    const registry = new ExecutionRegistry(folder);
    // Act
    const won = await Promise.all(Array.from({ length: 10 }, (_, i) => registry.create(record('run_1', i + 1))));
    // Assess
    expect(won.filter(Boolean).length).toBe(1);
    expect((await registry.get('run_1'))?.attempts).toBe(won.indexOf(true) + 1);
    expect(await readdir(folder)).toEqual(['run_1.json']);
  });

  it('survives concurrent puts of one record in one process (they shared a temporary file name)', async () => {
    const registry = new ExecutionRegistry(folder);
    await Promise.all(Array.from({ length: 10 }, (_, i) => registry.put(record('run_2', i + 1))));
    expect((await registry.get('run_2'))?.name).toBe('run_2');
    expect(await readdir(folder)).toEqual(['run_2.json']);
  });
});
