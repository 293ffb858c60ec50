/**
 * The fault matrix's child process: runs the real local pipeline for one message with plain
 * progress on stdout, so the parent can kill it (SIGKILL) at a chosen state and start it again.
 * Usage: node bin/run-ts.mjs tests/faults/run-child.ts <root> <message-json>
 */
import { runPipeline } from '../../local/runner';

const [root, text] = process.argv.slice(2);
if (!root || !text) {
  console.error('usage: run-child.ts <root> <message-json>');
  process.exit(2);
}
const result = await runPipeline({
  root,
  message: JSON.parse(text),
  out: process.stdout,
  plain: true,
  report: false,
  retryWaits: { timeScale: 600, minMs: 20, maxMs: 250 },
  workers: 1,
});
process.exitCode = result.exitCode;
