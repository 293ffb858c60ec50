import { describe, expect, it } from 'vitest';
import { main } from '../../local/cli';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: { write: (t: string) => out.push(t) }, err: { write: (t: string) => err.push(t) }, env: {} },
    out,
    err,
  };
}

describe('Command: forecast-pipeline enqueue', () => {
  it('is listed in the main help', async () => {
    const { io, out } = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/enqueue\s+send a parameter message/);
  });

  it('prints its usage with --help', async () => {
    const { io, out } = capture();
    expect(await main(['enqueue', '--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/--queue-url/);
  });

  it('exits 2 naming the missing options when called without them', async () => {
    const { io, err } = capture();
    expect(await main(['enqueue'], io)).toBe(2);
    expect(err.join('')).toMatch(/--queue-url and --message are required/);
  });
});
