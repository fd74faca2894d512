// Reading binlogs and relay logs as streams of events: from a local file, or from any byte
// stream (an SSH readRange). Events come in batches, one per input chunk, because a per-event
// await would cost more than parsing the event.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BinlogParser, type BinlogEvent, type ParseSummary, type ParserOptions } from './parser.js';

export type ByteSource = AsyncIterable<Buffer> | Readable;

/**
 * Yields the events of `source` in batches and returns the parse summary (end position, last
 * safe end, truncation). Errors (corruption, checksum) are thrown with the file and offset.
 */
export async function* readEventBatches(source: ByteSource, opts: ParserOptions = {}): AsyncGenerator<BinlogEvent[], ParseSummary, undefined> {
  const parser = new BinlogParser(opts);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    const events = parser.push(chunk);
    if (events.length) yield events;
  }
  return parser.finish();
}

/** Every event of a source, collected with the summary: for tests and small files. */
export async function readAllEvents(source: ByteSource, opts: ParserOptions = {}): Promise<{ events: BinlogEvent[]; summary: ParseSummary }> {
  const events: BinlogEvent[] = [];
  const it = readEventBatches(source, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return { events, summary: r.value };
    for (const e of r.value) events.push(e);
  }
}

/** A local file as a byte source, optionally from an offset; 1 MiB reads keep syscalls few. */
export function localSource(path: string, start = 0, end?: number): Readable {
  return createReadStream(path, { start, end: end === undefined ? undefined : end - 1, highWaterMark: 1 << 20 });
}

/**
 * A local file read into two reused buffers, one read always in flight: while the consumer parses
 * one buffer, the next is being filled. A buffer is overwritten two chunks later, so this is only
 * for consumers that keep nothing of a chunk once they have asked for the next — as the parser
 * does (it copies what it keeps). Memory stays flat and no 1 MiB buffer is allocated per chunk,
 * which is most of what a plain read stream costs the GC.
 */
export async function* reusedBufferSource(path: string, start = 0, end?: number, chunkSize = 256 * 1024): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const bufs = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)];
    let pos = start;
    let which = 0;
    const readNext = (): Promise<Buffer> | undefined => {
      const want = end === undefined ? chunkSize : Math.min(chunkSize, end - pos);
      if (want <= 0) return undefined;
      const buf = bufs[which]!;
      which ^= 1;
      const at = pos;
      pos += want;
      return fh.read(buf, 0, want, at).then(({ bytesRead }) => {
        if (bytesRead < want) pos = Number.POSITIVE_INFINITY; // end of file: stop reading ahead
        return buf.subarray(0, bytesRead);
      });
    };
    let pending = readNext();
    while (pending) {
      const chunk = await pending;
      if (chunk.length === 0) return;
      pending = end === undefined && pos === Number.POSITIVE_INFINITY ? undefined : readNext();
      yield chunk;
    }
  } finally {
    await fh.close();
  }
}
