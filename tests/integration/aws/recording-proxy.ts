/**
 * A loopback HTTP proxy in front of an endpoint (moto_server) that records every request it
 * forwards: method, path, the conditional-write headers and the status the endpoint answered.
 * Processes that cannot be instrumented (built Lambda bundles in child processes) are pointed
 * at it to show what they sent on the wire.
 */
import { createServer, request } from 'node:http';

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query (`/bucket/key`). */
  readonly path: string;
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly status: number;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        const header = (name: string) => (incoming.headers[name] === undefined ? {} : { [name === 'if-match' ? 'ifMatch' : 'ifNoneMatch']: String(incoming.headers[name]) });
        requests.push({ method: incoming.method ?? '', path: decodeURIComponent((incoming.url ?? '').split('?')[0]!), ...header('if-match'), ...header('if-none-match'), status: answer.statusCode ?? 0 });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      outgoing.writeHead(502);
      outgoing.end(error.message);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
