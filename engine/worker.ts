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
  const memory = process.memoryUsage(); // heap and external figures are this isolate's
  parentPort!.postMessage({ ...reply, memoryBytes: memory.heapUsed + memory.external });
});
