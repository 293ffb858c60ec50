/**
 * One shard of an engine job in a process of its own, as a separate Lambda would run it: the
 * local engine-job workflow starts `node bin/run-ts.mjs local/engine-shard-process.ts <store root>`
 * with the Fit-Shard input as JSON on stdin; the result is the last stdout line.
 */
import { SHARD_CRASH_ENV } from '../engine/faults';
import { FolderObjectStore } from '../shared/adapters/folder-store';
import { shardStep } from '../shared/steps/engine-job';
import { silenceStanNoise } from '../engine/stan-noise';

silenceStanNoise();
const [root] = process.argv.slice(2);
if (!root) {
  console.error('usage: engine-shard-process.ts <store root>  (Fit-Shard input on stdin)');
  process.exit(2);
}
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { shard?: { index?: number } };
const result = await shardStep(input, { store: new FolderObjectStore(root) });
if (process.env[SHARD_CRASH_ENV]) {
  // An injected fault (FORECAST_FAULTS engineStep rule): the work is done, the answer never comes.
  process.stderr.write(`Injected fault (FORECAST_FAULTS): shard ${input.shard?.index} crashed after its work\n`);
  process.exit(1);
}
// maxRSS: this process's peak resident memory (KiB), what a shard Lambda's memory must hold.
process.stdout.write(`\n${JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
