/**
 * Wire-compatible AWS endpoints for integration tests: starts `moto_server` (Python moto, on the
 * machine image) on 127.0.0.1 and a free port, waits until it answers, and stops it afterwards.
 * Real AWS SDK clients talk to it with dummy credentials; nothing leaves the loopback interface.
 *
 * A missing `moto_server` is a failure, never a skip: the suite must not go green without
 * having talked to an endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Client configuration for any AWS SDK v3 client: loopback endpoint, dummy credentials, path-style S3. */
  readonly clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
    maxAttempts: number;
  };
  /** Forgets every resource (buckets, queues, secrets): `POST /moto-api/reset`. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('Could not pick a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts moto_server; rejects (loudly) when it is missing or never answers. Tries `$MOTO_SERVER`
 * when set, else `moto_server` on PATH, then `python3 -m moto.server` (same server, when only the
 * Python package is importable).
 */
export async function startMoto(options: { command?: string } = {}): Promise<MotoServer> {
  const chosen = options.command ?? process.env.MOTO_SERVER;
  if (chosen) return startMotoWith(chosen, []);
  // A non-login shell (CI) may lack pyenv's shims on PATH although moto is installed there.
  const pyenvShim = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'shims', 'moto_server');
  const candidates: [string, string[]][] = [
    ['moto_server', []],
    [pyenvShim, []],
    ['python3', ['-m', 'moto.server']],
  ];
  const missing: string[] = [];
  for (const [command, prefix] of candidates) {
    try {
      return await startMotoWith(command, prefix);
    } catch (error) {
      if (!(error instanceof MotoMissing)) throw error;
      missing.push((error as Error).message);
    }
  }
  throw new Error(`moto_server is not available (tried ${candidates.map(([c, p]) => [c, ...p].join(' ')).join(', ')}):\n${missing.join('\n')}`);
}

class MotoMissing extends Error {}

async function startMotoWith(command: string, prefix: readonly string[]): Promise<MotoServer> {
  // The SDK must never probe instance metadata, whatever the caller's environment says.
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(command, [...prefix, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const early = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`exited (${code ?? signal})`)));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const problem = await Promise.race([
      spawnError.then((e) =>
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? `"${command}" is not installed or not on PATH (it comes with Python moto: pip install "moto[server]")`
          : `could not start "${command}": ${e.message}`,
      ),
      early.then((how) => `"${[command, ...prefix].join(' ')}" ${how} before answering`),
      answers(`${endpoint}/moto-api/`).then((ok) => (ok ? 'ready' : undefined)),
    ]);
    if (problem === 'ready') break;
    if (problem !== undefined) {
      const Failure = /not installed|No module named/.test(problem + output) ? MotoMissing : Error;
      throw new Failure(`moto_server unavailable: ${problem}\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS} ms\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    port,
    clientConfig: {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      forcePathStyle: true,
      maxAttempts: 2,
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}
