/**
 * `npm run bench:layer`: the deployed layer's size and the cold-start import times, measured on
 * the product's own build (`scripts/build.mjs`, default options) into a temporary folder.
 *
 * - size: the layer unzipped, in total and by kind (source maps, type declarations, @azure, …);
 * - memory: the peak RSS of a process that loaded a handler (with the driver, where it is used);
 * - cold start: in a fresh Node process per sample, with the built layer on NODE_PATH as on
 *   Lambda, the time to `require` each built handler, and the time to load snowflake-sdk
 *   from the layer (the Snowflake adapter loads it lazily, on parse/notify/failure's first call).
 *
 * The Node is the one of the Lambda runtime's major (the npm package `node`, a devDependency),
 * falling back to the running Node. Median of `--samples` (default 5) processes each.
 *
 *   npm run bench:layer [-- --samples 5]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAll, listSteps, ROOT } from '../scripts/build.mjs';

/** The steps whose handlers open the Snowflake warehouse (template.yaml: the secret's readers). */
const SNOWFLAKE_STEPS = ['parse', 'notify', 'failure'];
const { values } = parseArgs({ options: { samples: { type: 'string', default: '5' } } });
const samples = Number(values.samples);
const runtimeNode = join(ROOT, 'node_modules', 'node', 'bin', 'node');
const node = existsSync(runtimeNode) ? runtimeNode : process.execPath;

/** Bytes under `dir` by kind, from the file's name and path. */
async function sizesByKind(dir: string, totals = new Map<string, number>()): Promise<Map<string, number>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await sizesByKind(path, totals);
      continue;
    }
    const size = (await stat(path)).size;
    const kind = path.endsWith('.map') ? 'source maps (.map)'
      : /\.d\.[cm]?ts$/.test(path) ? 'type declarations (.d.ts)'
      : path.includes('/@azure/') ? '@azure/*'
      : path.includes('/@google-cloud/') ? '@google-cloud/*'
      : /\.node$/.test(path) ? 'native binaries (.node)'
      : 'other';
    totals.set(kind, (totals.get(kind) ?? 0) + size);
    totals.set('total', (totals.get('total') ?? 0) + size);
  }
  return totals;
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The number that `code` (CommonJS, prints its own measure) reports, median of `samples` processes. */
function timed(code: string, layerModules: string): number {
  const env = { PATH: process.env.PATH, NODE_PATH: layerModules, SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'us-east-1' };
  const runs = Array.from({ length: samples }, () => Number(execFileSync(node, ['-e', code], { env, cwd: tmpdir(), encoding: 'utf8' })));
  return median(runs);
}

const outdir = await mkdtemp(join(tmpdir(), 'bench-layer-'));
try {
  await buildAll(outdir, { vendor: true });
  const layerModules = join(outdir, 'layer', 'nodejs', 'node_modules');
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  console.log(`layer (unzipped), ${node === runtimeNode ? 'runtime' : 'running'} Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}:`);
  for (const [kind, bytes] of [...(await sizesByKind(join(outdir, 'layer')))].sort((a, b) => b[1] - a[1])) console.log(`  ${kind.padEnd(28)} ${mib(bytes)}`);
  const clock = 'const t = process.hrtime.bigint();';
  const print = 'process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6))';
  console.log(`cold start, median of ${samples} fresh processes:`);
  for (const step of await listSteps()) {
    const file = JSON.stringify(join(outdir, 'functions', step, 'index.js'));
    console.log(`  require ${step.padEnd(22)} ${timed(`${clock} require(${file}); ${print}`, layerModules).toFixed(0)} ms`);
  }
  // Memory: peak RSS of a process that loaded the handler (and, for the steps that talk to
  // Snowflake, the driver too: the adapter loads it on the first call). The floor for MemorySize.
  console.log('peak RSS after loading, median of the samples:');
  for (const step of await listSteps()) {
    const file = JSON.stringify(join(outdir, 'functions', step, 'index.js'));
    const driver = SNOWFLAKE_STEPS.includes(step) ? "require('snowflake-sdk');" : '';
    const rss = timed(`require(${file}); ${driver} process.stdout.write(String(process.resourceUsage().maxRSS / 1024))`, layerModules);
    console.log(`  ${step.padEnd(30)} ${rss.toFixed(0)} MiB${driver ? ' (with snowflake-sdk)' : ''}`);
  }
  // Resolved by name through NODE_PATH, as the layer bundle's import() finds it on Lambda.
  console.log(`  load snowflake-sdk             ${timed(`${clock} require('snowflake-sdk'); ${print}`, layerModules).toFixed(0)} ms`);
} finally {
  await rm(outdir, { recursive: true, force: true });
}
