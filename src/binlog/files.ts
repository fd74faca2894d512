// Opening a binlog part-way: the Format_description at the head of the file says how to read
// every later event (checksum algorithm, post-header lengths), so it is read first, then the
// stream starts at the requested offset.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { compareBinlogFiles, parseBinlogName } from './coordinates.js';
import { type FormatDescription } from './decode.js';
import { BinlogCorruptError, BinlogParser } from './parser.js';

/** Reads the magic and the first event (the Format_description) of a local file. */
export async function readFormatDescription(path: string): Promise<{ format: FormatDescription; end: number }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4 + 19);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const parser = new BinlogParser({ file: path });
    if (bytesRead < head.length) {
      parser.push(head.subarray(0, bytesRead));
      throw new BinlogCorruptError(path, 0, `file is ${bytesRead} bytes: too short for a binlog header`);
    }
    const size = head.readUInt32LE(4 + 9);
    if (size > 64 * 1024) throw new BinlogCorruptError(path, 4, `first event is ${size} bytes: not a Format_description`);
    const buf = Buffer.alloc(4 + size);
    const r2 = await fh.read(buf, 0, buf.length, 0);
    const events = parser.push(buf.subarray(0, r2.bytesRead));
    const first = events[0];
    if (!first || first.info?.kind !== 'format') {
      throw new BinlogCorruptError(path, 4, 'the first event is not a Format_description');
    }
    return { format: first.info.format, end: first.end };
  } finally {
    await fh.close();
  }
}

/**
 * Order log files as the server does: by the numeric suffix, so mysql-bin.999999 comes before
 * mysql-bin.1000000 (a shell glob, like MHA, sorts them as strings). Names that are not
 * NAME.NNNN keep their given order after the others.
 */
export function sortLogFiles(paths: string[]): string[] {
  const numbered = paths.filter((p) => isNumbered(p));
  const other = paths.filter((p) => !isNumbered(p));
  const byBase = (a: string, b: string) => {
    const ba = parseBinlogName(basename(a)).basename;
    const bb = parseBinlogName(basename(b)).basename;
    if (ba !== bb) return ba < bb ? -1 : 1;
    return compareBinlogFiles(basename(a), basename(b));
  };
  return [...numbered.sort(byBase), ...other];
}

function isNumbered(p: string): boolean {
  return /\.\d+$/.test(basename(p));
}
