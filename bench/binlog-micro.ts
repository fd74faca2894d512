// In-process micro-benchmark of the binlog engine on the bench's files (run by bench/binlog.ts in a
// child process, once per round): where does `ha binlog events --summary` spend its time — reading
// the files, CRC32, or the parser itself?
//   node dist/bench/binlog-micro.js FILE...   → one JSON line: { variant: milliseconds }
// Every variant reads the files from the page cache in 1 MiB chunks, each a fresh Buffer as
// fs.createReadStream gives them, and they run in this order in one process:
//   read         readSync only: the floor of reading from the page cache in Node
//   stream       fs.createReadStream (1 MiB highWaterMark), for await: the CLI's reader, no parsing
//   crc32        read + zlib.crc32 over every byte: the cost of checksumming alone
//   scan         read + BinlogParser.count({ decode: false }): the --summary scan (CRC32 checked)
//   scanNoCrc    read + BinlogParser.count({ decode: false, verifyChecksums: false })
//   decode       read + BinlogParser.push({ decode: true }): what the full listing parses
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { BinlogParser } from '../src/binlog/parser.js';

const CHUNK = 1 << 20;

function readChunks(file: string, each: (chunk: Buffer) => void): void {
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n <= 0) break;
      each(n === CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function timeItAsync(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const errors = new Set<string>();

/** Parses every file; a file the parser rejects is recorded in errors and the next one is read. */
function parseAll(files: string[], decode: boolean, verifyChecksums: boolean): number {
  let events = 0;
  for (const f of files) {
    const p = new BinlogParser({ file: path.basename(f), decode, verifyChecksums });
    // As ha binlog events does: --summary counts (builds no event), the listing decodes.
    const byType = new Float64Array(256);
    try {
      readChunks(f, (c) => {
        if (decode) events += p.push(c).length;
        else p.count(c, byType);
      });
      if (!decode) events += byType.reduce((a, b) => a + b, 0);
      p.finish();
    } catch (e) {
      errors.add(e instanceof Error ? e.message : String(e));
    }
  }
  return events;
}

async function main(): Promise<void> {
  const files = process.argv.slice(2);
  if (!files.length) throw new Error('usage: binlog-micro FILE...');
  const out: Record<string, number> = {};
  let sink = 0;
  out.read = timeIt(() => {
    for (const f of files) readChunks(f, (c) => (sink += c.length));
  });
  out.stream = await timeItAsync(async () => {
    for (const f of files) {
      for await (const c of fs.createReadStream(f, { highWaterMark: CHUNK })) sink += (c as Buffer).length;
    }
  });
  out.crc32 = timeIt(() => {
    for (const f of files) readChunks(f, (c) => (sink ^= crc32(c)));
  });
  let events = 0;
  out.scan = timeIt(() => (events = parseAll(files, false, true)));
  out.scanNoCrc = timeIt(() => parseAll(files, false, false));
  out.decode = timeIt(() => parseAll(files, true, true));
  process.stdout.write(`${JSON.stringify({ ms: out, events, errors: [...errors], sink: sink & 1 })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`binlog-micro: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
