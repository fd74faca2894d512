// Binlog coordinates compare by the file's numeric suffix, then the offset. MHA compares file
// names as strings, so mysql-bin.1000000 sorts before mysql-bin.999999 and a slave looks
// "behind" when it is ahead; numeric order avoids that.

/**
 * A place in a master's binlog series. Declared here, not taken from src/mysql, so that the binlog
 * engine depends on nothing above it; src/mysql's BinlogCoordinate has the same shape.
 */
export interface BinlogCoordinate {
  file: string;
  position: number;
}

export interface ParsedBinlogName {
  basename: string;
  sequence: bigint;
}

export function parseBinlogName(file: string): ParsedBinlogName {
  const m = /^(.*)\.(\d+)$/.exec(file);
  if (!m) throw new Error(`not a binlog file name (expected NAME.NNNNNN): ${JSON.stringify(file)}`);
  return { basename: m[1]!, sequence: BigInt(m[2]!) };
}

/** Negative when a < b, 0 when equal, positive when a > b. Files of different basenames are an error. */
export function compareBinlogFiles(a: string, b: string): number {
  const pa = parseBinlogName(a);
  const pb = parseBinlogName(b);
  if (pa.basename !== pb.basename) {
    throw new Error(`cannot order binlogs of different series: ${a} and ${b}`);
  }
  return pa.sequence < pb.sequence ? -1 : pa.sequence > pb.sequence ? 1 : 0;
}

export function compareCoordinates(a: BinlogCoordinate, b: BinlogCoordinate): number {
  const byFile = compareBinlogFiles(a.file, b.file);
  if (byFile !== 0) return byFile;
  return a.position - b.position;
}

export function formatCoordinate(c: BinlogCoordinate): string {
  return `${c.file}:${c.position}`;
}

/**
 * Bytes from `from` to `to` in the master's binlog series. Exact when both are in one file, or
 * when the sizes of the files in between are known (SHOW BINARY LOGS); otherwise a lower bound.
 */
export function bytesBetween(from: BinlogCoordinate, to: BinlogCoordinate, fileSizes?: Map<string, number>): { bytes: number; exact: boolean } {
  const order = compareCoordinates(from, to);
  if (order >= 0) return { bytes: 0, exact: true };
  if (from.file === to.file) return { bytes: to.position - from.position, exact: true };
  const fromSize = fileSizes?.get(from.file);
  let bytes = (fromSize ?? from.position) - from.position + to.position;
  let exact = fromSize !== undefined;
  if (fileSizes) {
    for (const [file, size] of fileSizes) {
      if (compareBinlogFiles(file, from.file) > 0 && compareBinlogFiles(file, to.file) < 0) bytes += size;
    }
    const gap = parseBinlogName(to.file).sequence - parseBinlogName(from.file).sequence - 1n;
    const known = [...fileSizes.keys()].filter((f) => compareBinlogFiles(f, from.file) > 0 && compareBinlogFiles(f, to.file) < 0).length;
    if (BigInt(known) !== gap) exact = false;
  } else {
    exact = false;
  }
  return { bytes, exact };
}
