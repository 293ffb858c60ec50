/** Worker thread entry: runs fit tasks posted by engine/pool.ts. */
import { parentPort } from 'node:worker_threads';
import { runFitTask } from './forecast-series';
import { silenceStanNoise } from './stan-noise';
import type { WorkerReply, WorkerTask } from './worker-protocol';

silenceStanNoise();

parentPort?.on('message', async ({ id, task }: { id: number; task: WorkerTask }) => {
  if (task.kind === 'crash') process.exit(3);
  let reply: WorkerReply;
  try {
    reply = { id, ok: true, results: await runFitTask(task) };
  } catch (error) {
    reply = { id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  // Heap and external figures are this isolate's (RSS is the whole process's). The heap's committed
  // size, not just what is live: a heap that grew stays that big until the worker ends.
  const memory = process.memoryUsage();
  parentPort!.postMessage({ ...reply, memoryBytes: memory.heapTotal + memory.external });
});
