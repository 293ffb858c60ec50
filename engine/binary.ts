/**
 * Compact binary container for engine data (imported rows, series sets, predictions): a small JSON
 * header followed by the raw bytes of every typed array, 8-byte aligned. Replaces JSON + base64,
 * which cost several copies of the data as strings while writing and reading.
 *
 *   "FCB1" · u32 LE header length · header JSON (UTF-8) · padding to 8 · array bytes
 *
 * Arrays are referenced from the header as `[offset, length, kind]` (offset in bytes from the start
 * of the data section). Writing streams the arrays as they are (BinaryFile). Reading copies each
 * array out into its own buffer, so a later subarray sent to a worker thread never drags the whole
 * file along through structured clone — or, for data that stays on this thread, views the file.
 * `readEngineData` also reads the JSON + base64 text of earlier engine versions.
 */

const MAGIC = 'FCB1';

/** `n` rounded up to a multiple of 8: where the next header part or array starts. */
const align8 = (n: number) => Math.ceil(n / 8) * 8;

type Kind = 0 | 1; // 0: Float64Array, 1: Uint8Array
export type ArrayRef = readonly [offset: number, length: number, kind: Kind];

/**
 * Where each array of a file goes, reserved by length, before the arrays exist if need be (a
 * sharded job's Plan lays out the predictions' header; its Finish streams the arrays).
 */
export class BinaryLayout {
  private readonly reserved: ArrayRef[] = [];
  private size = 0;

  reserve(length: number, kind: Kind): ArrayRef {
    const ref: ArrayRef = [this.size, length, kind];
    this.reserved.push(ref);
    this.size += align8(length * (kind === 0 ? 8 : 1));
    return ref;
  }

  /** Size of the data section in bytes. */
  get dataSize(): number {
    return this.size;
  }

}

/**
 * A binary container streamed from parts that are never all in memory: the header's JSON bytes
 * (`header.bytes` long, e.g. read from a store as they come), then the arrays as `arrays` yields
 * them — each checked to be one of the `expected.count` Float64 arrays of `expected.length` values
 * the header references — in chunks of about CHUNK_BYTES.
 */
export async function* streamBinaryFile(
  header: { readonly bytes: number; readonly chunks: AsyncIterable<Uint8Array> },
  arrays: AsyncIterable<Float64Array>,
  expected: { readonly count: number; readonly length: number },
): AsyncGenerator<Uint8Array> {
  const chunks = new Chunks();
  yield* chunks.push(headerPrefix(header.bytes));
  let read = 0;
  for await (const part of header.chunks) {
    read += part.byteLength;
    yield* chunks.push(part);
  }
  if (read !== header.bytes) throw new Error(`Internal: a streamed engine file's header is ${read} bytes, ${header.bytes} expected`);
  yield* chunks.push(headerPadding(header.bytes));
  let count = 0;
  for await (const array of arrays) {
    if (++count > expected.count || array.length !== expected.length) {
      throw new Error(`Internal: array ${count} of a streamed engine file does not match its header (${expected.count} arrays of ${expected.length} values)`);
    }
    for (const part of arrayParts(array)) yield* chunks.push(part);
  }
  if (count !== expected.count) throw new Error(`Internal: a streamed engine file got ${count} of ${expected.count} arrays`);
  yield* chunks.end();
}

/** Collects typed arrays while a header is being built, then gives the file. */
export class BinaryWriter {
  private readonly layout = new BinaryLayout();
  private readonly arrays: (Float64Array | Uint8Array)[] = [];

  add(array: Float64Array | Uint8Array): ArrayRef {
    this.arrays.push(array);
    return this.layout.reserve(array.length, array instanceof Float64Array ? 0 : 1);
  }

  finish(header: unknown): BinaryFile {
    return new BinaryFile(Buffer.from(JSON.stringify(header), 'utf8'), this.arrays, this.layout.dataSize);
  }
}

const CHUNK_BYTES = 1 << 20;
const PADDING = new Uint8Array(8);

/** Magic and the header's length. */
function headerPrefix(jsonBytes: number): Uint8Array {
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(jsonBytes, 4);
  return prefix;
}

/** The padding after the header, to 8. */
const headerPadding = (jsonBytes: number) => PADDING.subarray(0, align8(8 + jsonBytes) - 8 - jsonBytes);

/** Magic, header length, header, padding to 8. */
function* headerParts(json: Buffer): Generator<Uint8Array> {
  yield headerPrefix(json.length);
  yield json;
  yield headerPadding(json.length);
}

/** An array's bytes, padded to 8. */
function* arrayParts(a: Float64Array | Uint8Array): Generator<Uint8Array> {
  yield new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  yield PADDING.subarray(0, align8(a.byteLength) - a.byteLength);
}

/** Gathers small parts into chunks of about CHUNK_BYTES (big parts pass through as they are). */
class Chunks {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  *push(part: Uint8Array): Generator<Uint8Array> {
    if (part.byteLength === 0) return;
    if (part.byteLength >= CHUNK_BYTES) {
      yield* this.end();
      yield part;
      return;
    }
    this.pending.push(part);
    this.pendingBytes += part.byteLength;
    if (this.pendingBytes >= CHUNK_BYTES) yield* this.end();
  }

  *end(): Generator<Uint8Array> {
    if (this.pendingBytes) yield Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * A binary container ready to write. Written to a store it streams: chunks of about 1 MiB that
 * view the arrays, so writing a dataset does not first copy all of it into one buffer.
 */
export class BinaryFile implements AsyncIterable<Uint8Array> {
  /** Size of the file in bytes. */
  readonly length: number;

  constructor(
    private readonly json: Buffer,
    private readonly arrays: readonly (Float64Array | Uint8Array)[],
    dataSize: number,
  ) {
    this.length = align8(8 + json.length) + dataSize;
  }

  /** The header's and every array's parts gathered into chunks of about CHUNK_BYTES. */
  *chunks(): Generator<Uint8Array> {
    const chunks = new Chunks();
    for (const part of headerParts(this.json)) yield* chunks.push(part);
    for (const a of this.arrays) for (const part of arrayParts(a)) yield* chunks.push(part);
    yield* chunks.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    yield* this.chunks();
  }

  /** The whole file in one buffer. */
  toBuffer(): Buffer {
    return Buffer.concat([...this.chunks()], this.length);
  }
}

/** True when the bytes are a binary container (older engine data is JSON text). */
export function isBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x46 && bytes[1] === 0x43 && bytes[2] === 0x42 && bytes[3] === 0x31;
}

export class BinaryReader {
  readonly header: unknown;
  private readonly dataStart: number;

  constructor(private readonly bytes: Uint8Array) {
    if (!isBinary(bytes)) throw new Error('Not an engine binary container');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(4, true);
    this.header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, length).toString('utf8'));
    this.dataStart = align8(8 + length);
  }

  private copy(ref: ArrayRef, width: number): ArrayBuffer {
    const [offset, length] = ref;
    const buffer = new ArrayBuffer(length * width);
    const start = this.dataStart + offset;
    new Uint8Array(buffer).set(this.bytes.subarray(start, start + length * width));
    return buffer;
  }

  f64(ref: ArrayRef): Float64Array {
    if (ref[2] !== 0) throw new Error('Engine data: expected a Float64 array');
    return new Float64Array(this.copy(ref, 8));
  }

  /**
   * The array as a view of the file's bytes, no copy (a copy when the bytes are not 8-aligned in
   * memory). For data that never goes to a worker thread: a view would drag the whole file along.
   */
  f64View(ref: ArrayRef): Float64Array {
    if (ref[2] !== 0) throw new Error('Engine data: expected a Float64 array');
    const [offset, length] = ref;
    const start = this.bytes.byteOffset + this.dataStart + offset;
    return start % 8 === 0 ? new Float64Array(this.bytes.buffer, start, length) : this.f64(ref);
  }

  u8(ref: ArrayRef): Uint8Array {
    if (ref[2] !== 1) throw new Error('Engine data: expected a Uint8 array');
    return new Uint8Array(this.copy(ref, 1));
  }
}

/** Typed array → base64, the array encoding of the JSON engine data of earlier versions. */
export const toBase64 = (a: Float64Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function base64Bytes(a: StoredArray): Uint8Array {
  if (typeof a !== 'string') throw new Error('Engine data: expected base64 text in JSON engine data');
  const bytes = Buffer.from(a, 'base64');
  const copy = new Uint8Array(bytes.length); // own, aligned buffer
  copy.set(bytes);
  return copy;
}

/** An array as stored: a reference into a binary container, or base64 in older JSON engine data. */
export type StoredArray = ArrayRef | string;

/** A stored engine file, binary or JSON, as the deserializers read it. */
export interface EngineData {
  readonly header: unknown;
  /** The array in a buffer of its own. */
  f64(a: StoredArray): Float64Array;
  /** The array, as a view of the file where it can be (for data that stays on this thread). */
  f64View(a: StoredArray): Float64Array;
  u8(a: StoredArray): Uint8Array;
}

export function readEngineData(bytes: Uint8Array | string): EngineData {
  if (typeof bytes !== 'string' && isBinary(bytes)) {
    const reader = new BinaryReader(bytes);
    const ref = (a: StoredArray): ArrayRef => {
      if (typeof a === 'string') throw new Error('Engine data: base64 text inside a binary container');
      return a;
    };
    return { header: reader.header, f64: (a) => reader.f64(ref(a)), f64View: (a) => reader.f64View(ref(a)), u8: (a) => reader.u8(ref(a)) };
  }
  const f64 = (a: StoredArray) => new Float64Array(base64Bytes(a).buffer);
  return {
    header: JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')),
    f64,
    f64View: f64,
    u8: base64Bytes,
  };
}
