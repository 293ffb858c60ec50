/**
 * Bench-only (bench/scale.ts): one Plan or Finish step of an engine job in a process of its own, as
 * its Lambda would run it, so the step's peak RSS is measured apart from the rest of the run:
 *
 *   node bin/run-ts.mjs bench/engine-step-process.ts <Plan|Finish> <store root> <state URI> <shard cost>
 *
 * The step's input is JSON on stdin; the last stdout line is `{ result, ms, maxRssKiB, liveKiB }` (ms:
 * the step itself, without the process start-up). Started with `--expose-gc` (bench:scale
 * `--live-heap`), it also forces a garbage collection every 10 ms and reports the largest live heap
 * seen (V8 heap used + external memory, `liveKiB`): what the step keeps, apart from garbage V8 has not
 * collected yet (RSS includes it).
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
const gc = (globalThis as { gc?: () => void }).gc;
let liveBytes = 0;
const sampleLive = () => {
  gc!();
  const { heapUsed, external } = process.memoryUsage();
  liveBytes = Math.max(liveBytes, heapUsed + external);
};
const sampler = gc ? setInterval(sampleLive, 10) : undefined;
const started = performance.now();
const result = step === 'Plan' ? await planStep(event, deps) : await finishStep(event, deps);
const ms = Math.round(performance.now() - started);
if (sampler) clearInterval(sampler);
const liveKiB = gc ? Math.round(liveBytes / 1024) : undefined;
process.stdout.write(`\n${JSON.stringify({ result, ms, maxRssKiB: process.resourceUsage().maxRSS, liveKiB })}\n`);
