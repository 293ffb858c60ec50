/**
 * A streaming RFC 4180 CSV reader: bytes in, one `string[]` per record out (quoted fields may hold
 * commas, doubled quotes and line breaks; CRLF or LF; blank lines skipped). Memory: one record and one chunk.
 */
import { StringDecoder } from 'node:string_decoder';

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

export async function* readCsvRecords(chunks: AsyncIterable<Uint8Array | string>): AsyncIterable<string[]> {
  const decoder = new StringDecoder('utf8');
  let record: string[] = [];
  let field = '';
  let state = State.FieldStart;
  const out: string[][] = [];

  /** Ends the current field with `value` at a comma (44) or a line break, which also ends the record. */
  const endField = (value: string, ch: number) => {
    record.push(value);
    field = '';
    state = State.FieldStart;
    if (ch !== 44) {
      out.push(record);
      record = [];
    }
  };

  const consume = (text: string) => {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      switch (state) {
        case State.FieldStart:
          if (ch === 34) {
            state = State.Quoted;
            start = i + 1;
          } else if (ch === 44) {
            record.push('');
          } else if (ch === 10 || ch === 13) {
            // A blank line (or the LF of a CRLF) is skipped; a line ending in a comma ends with an empty field.
            if (record.length > 0) endField('', ch);
          } else {
            state = State.Unquoted;
            start = i;
          }
          break;
        case State.Unquoted:
          if (ch === 44 || ch === 10 || ch === 13) endField(field + text.slice(start, i), ch);
          break;
        case State.Quoted:
          if (ch === 34) {
            field += text.slice(start, i);
            state = State.QuoteInQuoted;
          }
          break;
        case State.QuoteInQuoted:
          if (ch === 34) {
            field += '"';
            start = i + 1;
            state = State.Quoted;
          } else if (ch === 44 || ch === 10 || ch === 13) {
            endField(field, ch);
          } else {
            // Text after a closing quote (not RFC 4180): keep it as part of the field.
            state = State.Unquoted;
            start = i;
          }
          break;
      }
    }
    if (state === State.Unquoted || state === State.Quoted) field += text.slice(start);
  };

  for await (const chunk of chunks) {
    consume(typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    for (const r of out) yield r;
    out.length = 0;
  }
  consume(decoder.end());
  for (const r of out) yield r;
  if (state !== State.FieldStart || record.length > 0) {
    record.push(field);
    yield record;
  }
}
