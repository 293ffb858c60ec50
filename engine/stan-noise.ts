/**
 * Prophet's Stan optimiser (WASM) prints "Exception thrown" on its stderr when a line-search step
 * fails; it then recovers, or the fit falls back and the forecast reports it. The bare line would
 * land between the progress bars, so worker threads drop it (with the newline that may follow as
 * a write of its own) and let every other write through.
 */
type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

const NOISE = 'Exception thrown';

const textOf = (chunk: unknown) =>
  typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8') : undefined;

export function withoutStanNoise(write: Write): Write {
  let dropNewline = false;
  return (chunk, ...rest) => {
    const text = textOf(chunk);
    const wasDropping = dropNewline;
    dropNewline = false;
    if (text === undefined) return write(chunk, ...rest);
    if (wasDropping && /^\r?\n$/.test(text)) return true;
    const lines = text.split('\n');
    if (lines.every((line, i) => line.replace(/\r$/, '') === NOISE || (line === '' && i === lines.length - 1))) {
      dropNewline = !text.endsWith('\n');
      return true;
    }
    return write(chunk, ...rest);
  };
}

/** Installs the filter on this thread's process.stderr. */
export function silenceStanNoise(): void {
  process.stderr.write = withoutStanNoise(process.stderr.write.bind(process.stderr) as Write) as typeof process.stderr.write;
}
