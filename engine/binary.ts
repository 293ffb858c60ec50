/**
 * Compact binary container for engine data (imported rows, series sets, predictions): a small JSON
 * header followed by the raw bytes of every typed array, 8-byte aligned. Replaces JSON + base64,
 * which cost several copies of the data as strings while writing and reading.
 *
 *   "FCB1" · u32 LE header length · header JSON (UTF-8) · padding to 8 · array bytes
 *
 * Arrays are referenced from the header as `[offset, length, kind]` (offset in bytes from the start
 * of the data section). Reading copies each array out into its own buffer, so a later subarray sent
 * to a worker thread never drags the whole file along through structured clone.
 */

const MAGIC = 'FCB1';

type Kind = 0 | 1; // 0: Float64Array, 1: Uint8Array
export type ArrayRef = readonly [offset: number, length: number, kind: Kind];

/** Collects typed arrays while a header is being built, then writes the file in one buffer. */
export class BinaryWriter {
  private readonly arrays: (Float64Array | Uint8Array)[] = [];
  private size = 0;

  add(array: Float64Array | Uint8Array): ArrayRef {
    const kind: Kind = array instanceof Float64Array ? 0 : 1;
    const ref: ArrayRef = [this.size, array.length, kind];
    this.arrays.push(array);
    this.size += Math.ceil(array.byteLength / 8) * 8;
    return ref;
  }

  finish(header: unknown): Buffer {
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const dataStart = Math.ceil((8 + json.length) / 8) * 8;
    const out = Buffer.alloc(dataStart + this.size);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(json.length, 4);
    json.copy(out, 8);
    let offset = dataStart;
    for (const a of this.arrays) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
      offset += Math.ceil(a.byteLength / 8) * 8;
    }
    return out;
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
    this.dataStart = Math.ceil((8 + length) / 8) * 8;
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

  u8(ref: ArrayRef): Uint8Array {
    if (ref[2] !== 1) throw new Error('Engine data: expected a Uint8 array');
    return new Uint8Array(this.copy(ref, 1));
  }
}
