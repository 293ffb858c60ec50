/**
 * Bench-only (bench/scale.ts): one Plan or Finish step of an engine job in a process of its own, as
 * its Lambda would run it, so the step's peak RSS is measured apart from the rest of the run:
 *
 *   node bin/run-ts.mjs bench/engine-step-process.ts <Plan|Finish> <store root> <state URI> <shard cost>
 *
 * The step's input is JSON on stdin; the last stdout line is `{ result, ms, maxRssKiB }` (ms: the
 * step itself, without the process start-up).
 */
import { FaultInjector } from '../engine/faults';
import { Repository } from '../engine/repository';
import { FolderObjectStore } from '../shared/adapters/folder-store';
import { finishStep, planStep } from '../shared/steps/engine-job';

const [step, root, stateUri, shardCost] = process.argv.slice(2);
if ((step !== 'Plan' && step !== 'Finish') || !root || !stateUri || !shardCost) {
  console.error('usage: engine-step-process.ts <Plan|Finish> <store root> <state URI> <shard cost>  (step input on stdin)');
  process.exit(2);
}
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const event: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const store = new FolderObjectStore(root);
const deps = { store, repo: new Repository(store, stateUri), faults: new FaultInjector([]), exportPartRows: 100_000, shardCost: Number(shardCost) };
const started = performance.now();
const result = step === 'Plan' ? await planStep(event, deps) : await finishStep(event, deps);
const ms = Math.round(performance.now() - started);
process.stdout.write(`\n${JSON.stringify({ result, ms, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
