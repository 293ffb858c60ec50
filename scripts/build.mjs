#!/usr/bin/env node
/**
 * The one build (used by `npm run build` and by SAM through the Makefile's targets).
 *
 *   node scripts/build.mjs [--outdir dist]              everything:
 *        dist/functions/<step>/index.js                 one CommonJS bundle per Lambda handler
 *        dist/layer/nodejs/node_modules/forecast-shared the layer: shared/ bundled as one module
 *        dist/layer/nodejs/node_modules/<deps>          snowflake-sdk and its dependencies, as installed
 *   node scripts/build.mjs --function <step> --artifacts-dir DIR   one function into DIR/index.js (SAM)
 *   node scripts/build.mjs --layer --artifacts-dir DIR             the layer into DIR/nodejs/... (SAM)
 *   --no-vendor   leave the heavy dependencies out of the layer (quick local checks only)
 *
 * How functions reach the layer: an esbuild plugin rewrites every import of shared/ in a
 * handler to the external package `forecast-shared`, which Lambda resolves from
 * /opt/nodejs/node_modules (the layer). The layer is ONE bundle, so module state (the
 * dependencies chosen once per container, error classes for instanceof) exists once. Its
 * exports are exactly the names the handlers import (read from lambdas/<step>/handler.ts),
 * plus the runtime wiring. Names survive minification (keepNames): error names are the
 * contract with the state machine.
 *
 * Heavy dependencies (snowflake-sdk, DuckDB, the engine's WASM packages) are never bundled.
 * The layer carries snowflake-sdk (the warehouse of the AWS deployment) and the engine's Prophet
 * packages (ForecastBackend=builtin) as plain node_modules copies of the installed packages and
 * their dependency closure, lean (docs/aws.md, "The layer"): no type declarations, no source maps
 * of the dependencies (our own bundles keep theirs: the template sets --enable-source-maps),
 * native binaries for the Lambda platform only, and the Azure SDKs (stage transfers on Azure
 * accounts and Azure workload identity, never used by queries) replaced by a stub that throws a
 * clear error when called. DuckDB is local-only and stays out of the deployment.
 */
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// esbuild is a devDependency: `sam build` without `npm ci` would otherwise end in a bare
// "Cannot find package 'esbuild'".
const { build } = await import('esbuild').catch((error) => {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  throw new Error(`esbuild is not installed: run \`npm ci\` in ${ROOT} first (sam build and npm run build bundle with the project's devDependencies)`);
});
export const LAYER_PACKAGE = 'forecast-shared';
/** Never bundled: resolved at run time (from the layer's node_modules, or absent on Lambda). */
export const HEAVY_PACKAGES = ['snowflake-sdk', '@duckdb/*', '@bsull/*', '@tensorflow/*', 'arima', 'playwright-core', 'aws-local-stepfunctions'];
/**
 * Copied into the layer's node_modules with their dependency closure: snowflake-sdk, and the
 * built-in engine's Prophet (augurs + the WASM Stan optimiser, ESM with top-level await: loaded with
 * import() from the CommonJS layer, which Node allows) for the engine-job Lambdas.
 */
export const VENDORED_PACKAGES = ['snowflake-sdk', '@bsull/augurs', '@bsull/augurs-prophet-wasmstan'];
/**
 * `import.meta.url` in a CommonJS bundle: the bundle file's own URL, so the engine's
 * createRequire(import.meta.url) resolves the vendored packages next to the layer package.
 */
const IMPORT_META_URL_SHIM = {
  define: { 'import.meta.url': '__bundleFileUrl' },
  banner: { js: 'var __bundleFileUrl = require("url").pathToFileURL(__filename).href;' },
};
/**
 * Left out of the layer's copy of snowflake-sdk, each replaced by a stub package: the driver
 * requires them at load time, but calls them only for PUT/GET on Azure stages and Azure
 * workload identity, which this pipeline never uses (queries only).
 */
export const LEFT_OUT_PACKAGES = ['@azure/identity', '@azure/storage-blob'];
/** The Lambda runtime (template.yaml Globals): the bundles' target and the native binaries kept. */
const TARGET = 'node24';
export const LAMBDA_PLATFORM = { os: 'linux', arch: 'arm64', libc: 'gnu' };

/** Every step: the folders of lambdas/ that hold a handler.ts. */
export async function listSteps(root = ROOT) {
  const entries = await readdir(join(root, 'lambdas'), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(root, 'lambdas', e.name, 'handler.ts')))
    .map((e) => e.name)
    .sort();
}

const SHARED_IMPORT = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+['"]((?:\.\.\/)+shared\/[^'"]*)['"]/g;

/**
 * The names each handler imports from shared/, by module file: `Map<absolute module path,
 * Set<name>>`. Only named imports are allowed (the layer is one module).
 */
export async function sharedImports(steps, root = ROOT) {
  const byModule = new Map();
  for (const step of steps) {
    const file = join(root, 'lambdas', step, 'handler.ts');
    const text = await readFile(file, 'utf8');
    if (/import\s+(\*\s+as\s+\w+|\w+)\s*(,|from)\s*['"](\.\.\/)+shared\//.test(text)) {
      throw new Error(`${relative(root, file)}: import shared/ modules with named imports only`);
    }
    for (const match of text.matchAll(SHARED_IMPORT)) {
      if (match[1]) continue; // type-only import: erased
      const module = resolve(dirname(file), match[3]);
      const names = match[2]
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n && !n.startsWith('type '))
        .map((n) => n.split(/\s+as\s+/)[0].trim());
      const set = byModule.get(module) ?? new Set();
      names.forEach((n) => set.add(n));
      byModule.set(module, set);
    }
  }
  return byModule;
}

/** The layer's entry: re-exports what the handlers use, plus the wiring (for tests and runners). */
export function layerEntry(byModule, root = ROOT) {
  const runtime = join(root, 'shared', 'runtime');
  const lines = ["export { getDependencies, setDependencies, dependenciesFromEnv } from './shared/runtime';"];
  const exported = new Map(['getDependencies', 'setDependencies', 'dependenciesFromEnv'].map((n) => [n, runtime]));
  for (const [module, names] of [...byModule].sort(([a], [b]) => a.localeCompare(b))) {
    const fresh = [];
    for (const name of [...names].sort()) {
      const from = exported.get(name);
      if (from === undefined) {
        exported.set(name, module);
        fresh.push(name);
      } else if (from !== module) {
        // One flat module: two different things cannot share a name.
        throw new Error(`Handlers import "${name}" from both ${relative(root, from)} and ${relative(root, module)}: rename one`);
      }
    }
    if (fresh.length) lines.push(`export { ${fresh.join(', ')} } from './${relative(root, module).split(sep).join('/')}';`);
  }
  return `${lines.join('\n')}\n`;
}

/** esbuild plugin: imports that land in shared/ become `require('forecast-shared')`. */
export function sharedToLayer(root = ROOT) {
  const sharedDir = join(root, 'shared') + sep;
  return {
    name: 'shared-to-layer',
    setup(builder) {
      builder.onResolve({ filter: /(^|\/)shared(\/|$)/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const target = resolve(args.resolveDir, args.path);
        if (target.startsWith(sharedDir) || target === join(root, 'shared')) return { path: LAYER_PACKAGE, external: true };
        return undefined;
      });
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: TARGET,
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  external: HEAVY_PACKAGES,
};

/** Builds one function bundle into `outdir/index.js`. */
export async function buildFunction(step, outdir, root = ROOT) {
  const entry = join(root, 'lambdas', step, 'handler.ts');
  if (!existsSync(entry)) throw new Error(`No handler for step "${step}" (${relative(root, entry)})`);
  await mkdir(outdir, { recursive: true });
  const result = await build({
    ...common,
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: join(outdir, 'index.js'),
    external: [...HEAVY_PACKAGES, LAYER_PACKAGE],
    plugins: [sharedToLayer(root)],
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const leaked = inputs.filter((i) => i.startsWith('shared/') || i.includes('@aws-sdk/'));
  if (leaked.length) throw new Error(`Function ${step} bundles code the layer provides: ${leaked.slice(0, 5).join(', ')}`);
  return join(outdir, 'index.js');
}

/** Builds the layer into `outdir/nodejs/node_modules/`. */
export async function buildLayer(outdir, { vendor = true, root = ROOT } = {}) {
  const steps = await listSteps(root);
  const modules = join(outdir, 'nodejs', 'node_modules');
  const packageDir = join(modules, LAYER_PACKAGE);
  await mkdir(packageDir, { recursive: true });
  await build({
    ...common,
    absWorkingDir: root,
    stdin: { contents: layerEntry(await sharedImports(steps, root), root), resolveDir: root, sourcefile: 'forecast-shared.ts', loader: 'ts' },
    outfile: join(packageDir, 'index.js'),
    ...IMPORT_META_URL_SHIM,
  });
  const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
  await writeFile(
    join(packageDir, 'package.json'),
    `${JSON.stringify({ name: LAYER_PACKAGE, version, private: true, main: 'index.js' }, null, 2)}\n`,
  );
  if (vendor) await vendorPackages(VENDORED_PACKAGES, modules, root);
  return packageDir;
}

/** Directory of package `name` as Node resolves it from `fromDir` (walking up node_modules). */
function packageDirFrom(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** A platform-specific native binary (`….linux-arm64-gnu.node`) for a platform other than Lambda's. */
export function isForeignBinary(file, platform = LAMBDA_PLATFORM) {
  const tag = /[.-](darwin|linux|win32|freebsd|android)-(x64|arm64|arm|ia32)(?:-(gnu|musl|msvc))?\.node$/.exec(basename(file));
  if (!tag) return false;
  return tag[1] !== platform.os || tag[2] !== platform.arch || (tag[3] !== undefined && tag[3] !== platform.libc);
}

/** Files of a vendored package that have no use at run time on Lambda. */
function isShipped(file) {
  if (/\.d\.[cm]?ts$/.test(file) || file.endsWith('.map')) return false;
  return !isForeignBinary(file);
}

/** The stub that stands for a left-out package: loading works, any use throws and says why. */
function leftOutStub(name) {
  return `'use strict';
// ${name} is left out of this layer by scripts/build.mjs (LEFT_OUT_PACKAGES): snowflake-sdk needs it
// only for PUT/GET on Azure stages and Azure workload identity, which the pipeline does not use.
const leftOut = (member) => function () {
  throw new Error(\`${name} (\${member}) is not in this Lambda layer: the pipeline runs Snowflake queries only; add it back in scripts/build.mjs to use Azure stages or Azure workload identity\`);
};
module.exports = new Proxy({}, {
  get: (_, member) => (typeof member !== 'string' || member === '__esModule' || member === 'then' ? undefined : leftOut(member)),
});
`;
}

/**
 * Copies packages and their installed dependency closure into `modules`, keeping each
 * package's place relative to the project's node_modules so that Node resolves them the
 * same way from /opt/nodejs/node_modules. Left-out packages become stubs (their own
 * dependencies are not followed); files without a run-time use are not copied.
 */
export async function vendorPackages(names, modules, root = ROOT) {
  const projectModules = join(root, 'node_modules');
  const queue = names.map((n) => [n, root]);
  const found = new Set();
  const stubs = new Set();
  while (queue.length) {
    const [name, from] = queue.shift();
    const dir = packageDirFrom(name, from);
    if (!dir || found.has(dir) || stubs.has(dir)) continue;
    if (LEFT_OUT_PACKAGES.includes(name)) {
      stubs.add(dir);
      continue;
    }
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) queue.push([dep, dir]);
  }
  // Copy outermost package folders only (a nested node_modules comes along with its parent).
  const outermost = [...found].filter((dir) => ![...found].some((other) => other !== dir && dir.startsWith(other + sep)));
  for (const dir of outermost) {
    await cp(dir, join(modules, relative(projectModules, dir)), {
      recursive: true,
      dereference: true,
      filter: (source) => (source.startsWith(join(dir, 'node_modules') + sep) && [...stubs].some((stub) => source === stub || source.startsWith(stub + sep)) ? false : isShipped(source)),
    });
  }
  for (const dir of stubs) {
    const target = join(modules, relative(projectModules, dir));
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'package.json'), `${JSON.stringify({ name: manifest.name, version: manifest.version, private: true, main: 'index.js', description: 'stub: left out of the layer' }, null, 2)}\n`);
    await writeFile(join(target, 'index.js'), leftOutStub(manifest.name));
  }
  return found.size;
}

async function sizeOf(path) {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

/** Builds every function and the layer under `outdir`; returns sizes in bytes. */
export async function buildAll(outdir = join(ROOT, 'dist'), { vendor = true, root = ROOT } = {}) {
  await rm(join(outdir, 'functions'), { recursive: true, force: true });
  await rm(join(outdir, 'layer'), { recursive: true, force: true });
  const steps = await listSteps(root);
  const functions = {};
  for (const step of steps) {
    const file = await buildFunction(step, join(outdir, 'functions', step), root);
    functions[step] = (await stat(file)).size;
  }
  const layerPackage = await buildLayer(join(outdir, 'layer'), { vendor, root });
  return {
    functions,
    layerBundle: (await stat(join(layerPackage, 'index.js'))).size,
    layerTotal: await sizeOf(join(outdir, 'layer')),
  };
}

function argument(argv, name) {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function main(argv) {
  const vendor = !argv.includes('--no-vendor');
  const artifacts = argument(argv, '--artifacts-dir');
  const step = argument(argv, '--function');
  if (step) {
    await buildFunction(step, resolve(artifacts ?? join(ROOT, 'dist', 'functions', step)));
    return;
  }
  if (argv.includes('--layer')) {
    await buildLayer(resolve(artifacts ?? join(ROOT, 'dist', 'layer')), { vendor });
    return;
  }
  const started = Date.now();
  const outdir = resolve(argument(argv, '--outdir') ?? join(ROOT, 'dist'));
  const sizes = await buildAll(outdir, { vendor });
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  for (const [name, size] of Object.entries(sizes.functions)) console.log(`functions/${name}/index.js  ${kb(size)}`);
  console.log(`layer/nodejs/node_modules/${LAYER_PACKAGE}/index.js  ${kb(sizes.layerBundle)}`);
  console.log(`layer total (with vendored ${vendor ? VENDORED_PACKAGES.join(', ') : 'nothing'})  ${(sizes.layerTotal / 1048576).toFixed(1)} MiB`);
  console.log(`built into ${relative(process.cwd(), outdir) || '.'} in ${Date.now() - started} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2));
}
