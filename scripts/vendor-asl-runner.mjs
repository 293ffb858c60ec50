#!/usr/bin/env node
/**
 * Re-creates vendor/aws-local-stepfunctions from the package published on the npm registry.
 *
 * Why a vendored copy: aws-local-stepfunctions 3.0.0 (the only release on the registry) declares
 * `engines.node >= 22` for one call, `Promise.withResolvers`, which local/polyfill.ts provides on
 * Node 20. npm checks engines against the Node that runs npm itself, so on a machine whose Node is
 * 20 every `npm ci` warned EBADENGINE although the project runs there (the whole test suite does).
 * The copy is the published code byte for byte (checked by tests/unit/vendored-asl-runner.test.ts
 * against vendor.json); only package.json is patched (see PATCH below). To move to a new release:
 * set VERSION and INTEGRITY (`npm view aws-local-stepfunctions@X dist.integrity`), run
 * `node scripts/vendor-asl-runner.mjs`, then `npm install` and the tests.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'aws-local-stepfunctions';
const VERSION = '3.0.0';
const INTEGRITY = 'sha512-Ey6alNmQOk+v1TcRItZakz+MgWTNyw11NOjOpyvohV9zt6s+C0THFHfnqR+PSaK62m1gRLYv4ZrFfEVlnBM0Sw==';
/** What the project loads: the Node builds and their types. The browser build and the CLI are left out. */
const KEPT_FILES = ['LICENSE', 'build/main.node.esm.js', 'build/main.node.cjs', 'build/main.d.ts'];
/** The same floor as the project's own package.json `engines`. */
const NODE_RANGE = '>=20.19';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = join(ROOT, 'vendor', NAME);

function patchManifest(upstream) {
  const { bin, browser, scripts, devDependencies, ...kept } = upstream;
  const { browser: browserExport, ...exports } = upstream.exports;
  return {
    ...kept,
    files: ['build'],
    exports: { ...exports, default: './build/main.node.esm.js' },
    engines: { node: NODE_RANGE },
  };
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

const work = mkdtempSync(join(tmpdir(), 'vendor-asl-'));
try {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', `${NAME}@${VERSION}`, '--json', '--pack-destination', work], { encoding: 'utf8' }),
  );
  if (packed.integrity !== INTEGRITY) {
    throw new Error(`${NAME}@${VERSION}: the registry's tarball has integrity ${packed.integrity}, expected ${INTEGRITY}`);
  }
  execFileSync('tar', ['xzf', join(work, packed.filename), '-C', work]);
  const unpacked = join(work, 'package');

  rmSync(TARGET, { recursive: true, force: true });
  mkdirSync(join(TARGET, 'build'), { recursive: true });
  for (const file of KEPT_FILES) cpSync(join(unpacked, file), join(TARGET, file));
  const upstream = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
  writeFileSync(join(TARGET, 'package.json'), `${JSON.stringify(patchManifest(upstream), null, 2)}\n`);
  const record = {
    name: NAME,
    version: VERSION,
    integrity: INTEGRITY,
    patch: `package.json only: engines.node ${upstream.engines?.node} -> ${NODE_RANGE}; bin, browser build, scripts and devDependencies left out`,
    sha256: Object.fromEntries(KEPT_FILES.map((file) => [file, sha256(join(TARGET, file))])),
  };
  writeFileSync(join(TARGET, 'vendor.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`vendored ${NAME}@${VERSION} into ${TARGET}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
