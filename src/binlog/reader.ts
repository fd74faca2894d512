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
 * A local file read into ONE reused buffer: each chunk is overwritten by the next read, so this is
 * only for consumers that keep nothing of a chunk once they have passed it on — as the parser
 * does (it copies what it keeps). Reading this way keeps a scan's memory flat and avoids a fresh
 * 1 MiB allocation per chunk, which is most of what a plain read stream costs the GC.
 */
export async function* reusedBufferSource(path: string, start = 0, end?: number, chunkSize = 256 * 1024): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    let pos = start;
    for (;;) {
      const want = end === undefined ? chunkSize : Math.min(chunkSize, end - pos);
      if (want <= 0) return;
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
