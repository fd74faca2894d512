// `ha binlog find`: where, in a slave's relay logs, does the first event after a master
// coordinate start? The question a failover asks of the latest slave for each lagging one (with
// the lagging slave's Master_Log_File / Read_Master_Log_Pos), like MHA's
// `apply_diff_relay_logs --command=find`, without mysqlbinlog. See src/binlog/relay-map.ts.
import { InvalidArgumentError, type Command } from 'commander';
import { parseBinlogName } from '../binlog/coordinates.js';
import { BinlogCorruptError } from '../binlog/parser.js';
import { RelayMapError, localRelaySource, mapRelayPosition, readRelayLogIndex, type RelayLogSource, type RelayLocation, type RelayMapResult } from '../binlog/relay-map.js';
import { CommandExit } from './common.js';
import { ExitCode } from '../core/exit-codes.js';

export interface BinlogFindOptions {
  relayLogIndex: string;
  masterLogFile: string;
  masterLogPos: number;
  /** The slave's own Master_Log_File / Read_Master_Log_Pos: names relay logs that do not say their binlog. */
  readMasterLogFile?: string;
  readMasterLogPos?: number;
  /** Resolve relative index entries against this directory (the server's datadir). */
  datadir?: string;
  scanAll: boolean;
  verifyChecksum: boolean;
  json: boolean;
}

function parsePosition(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`expected a binlog position (bytes), got "${value}"`);
  return Number(value);
}

function parseFileName(value: string): string {
  try {
    parseBinlogName(value);
  } catch {
    throw new InvalidArgumentError(`expected a binlog file name like mysql-bin.000042, got "${value}"`);
  }
  return value;
}

export function registerBinlogFind(binlog: Command): void {
  binlog
    .command('find')
    .description("map a master coordinate into a slave's relay logs: the relay log and offset where the first event after it starts")
    .requiredOption('--relay-log-index <file>', "the slave's relay-log index (@@relay_log_index)")
    .requiredOption('--master-log-file <name>', "master binlog of the coordinate (e.g. a lagging slave's Master_Log_File)", parseFileName)
    .requiredOption('--master-log-pos <pos>', "position in it (e.g. that slave's Read_Master_Log_Pos)", parsePosition)
    .option('--read-master-log-file <name>', "this slave's own Master_Log_File (names relay logs left without a Rotate after a purge)", parseFileName)
    .option('--read-master-log-pos <pos>', "this slave's own Read_Master_Log_Pos (with --read-master-log-file)", parsePosition)
    .option('--datadir <dir>', "resolve relative index entries against the server's datadir (default: beside the index)")
    .option('--scan-all', 'read every relay log from the oldest instead of only the heads and the file that holds the answer', false)
    .option('--no-verify-checksum', 'do not check CRC32 checksums of the events read')
    .option('--json', 'print the result as one JSON object', false)
    .addHelpText(
      'after',
      `
Examples:
  # where does a lagging slave's read position fall in the latest slave's relay logs?
  $ ha binlog find --relay-log-index /var/lib/mysql/relay-bin.index \\
        --master-log-file mysql-bin.000042 --master-log-pos 1234
  found /var/lib/mysql/relay-bin.000107 9921  (mysql-bin.000042:1234 is a transaction boundary: Gtid starts there)

  $ ha binlog find --json --relay-log-index /var/lib/mysql/relay-bin.index \\
        --master-log-file mysql-bin.000042 --master-log-pos 1234 | jq -r '.relayFile, .offset'

Results:
  found         the first event after the coordinate starts at this relay log and offset; when the
                coordinate is inside a transaction, the transaction's first event is named too
  at-end        the coordinate is the end of what this slave received: nothing to apply
  older         the coordinate is before the oldest relay log kept (relay_log_purge removed it)
  newer         the coordinate is beyond what this slave received
  not-boundary  the coordinate falls inside an event (named)

Only the first few KiB of each relay log are read, then the file that holds the answer.

Exit codes: 0 found at an exact event boundary, or at-end; 1 older, newer, not-boundary, a
coordinate that is no exact boundary in these relay logs, unreadable or damaged relay logs;
2 usage error.`,
    )
    .action(async (opts: BinlogFindOptions) => {
      const code = await runBinlogFind(opts, process.stdout, process.stderr);
      if (code !== ExitCode.OK) throw new CommandExit(code);
    });
}

const where = (l: RelayLocation) => `${l.relayFile} ${l.offset} (${l.masterFile}:${l.masterPosition})`;

/** One line a DBA can read: the relay file and offset first, then what kind of answer it is. */
export function describeResult(coord: string, r: RelayMapResult): string {
  switch (r.kind) {
    case 'found': {
      if (!r.exactBoundary) {
        const gap = r.gap ? `; master bytes ${r.gap.from.file}:${r.gap.from.position} to ${r.gap.to.file}:${r.gap.to.position} are not in these relay logs` : '';
        return `found ${r.relayFile} ${r.offset}  (NOT an event boundary: ${coord} is not where an event of these relay logs starts${gap}; the next event is ${r.event.type} at ${r.masterFile}:${r.masterPosition})`;
      }
      if (!r.insideTransaction) return `found ${r.relayFile} ${r.offset}  (${coord} is a transaction boundary: ${r.event.type} starts there)`;
      const start = r.transactionStart ? `it starts at ${where(r.transactionStart)}` : 'it started in a relay log no longer kept';
      return `found ${r.relayFile} ${r.offset}  (${coord} is inside a transaction: ${r.event.type} starts there; ${start})`;
    }
    case 'at-end': {
      const open = r.openTransaction ? `; the relay logs end inside a transaction that starts at ${where(r.openTransaction)}` : '';
      if (!r.exactBoundary) return `at-end ${r.relayFile} ${r.offset}  (${coord} is past the last event this slave has but not an event boundary${open})`;
      return `at-end ${r.relayFile} ${r.offset}  (${coord} is the end of what this slave received: nothing to apply${open})`;
    }
    case 'older':
      return `older  (${coord} is before the oldest event these relay logs still have, ${where(r.oldest)}: purged (relay_log_purge) or never received)`;
    case 'newer':
      return `newer  (${coord} is beyond what this slave received: it has read up to ${r.received.file}:${r.received.position}, ${r.relayFile} ${r.offset})`;
    case 'not-boundary':
      return `not-boundary  (${coord} is inside ${r.event.type} at ${r.event.relayFile} ${r.event.offset}, which spans ${r.event.masterFile}:${r.event.masterPosition} to ${r.event.masterEnd})`;
  }
}

export function exitCodeOf(r: RelayMapResult): number {
  if (r.kind === 'at-end') return r.exactBoundary ? ExitCode.OK : ExitCode.FAILED;
  if (r.kind === 'found') return r.exactBoundary ? ExitCode.OK : ExitCode.FAILED;
  return ExitCode.FAILED;
}

/** The result for --json: the format in `resume` without its per-type table (noise for a reader). */
function jsonOf(coord: { file: string; position: number }, index: string, r: RelayMapResult): Record<string, unknown> {
  const o: Record<string, unknown> = { coordinate: coord, relayLogIndex: index, ...r };
  if (r.kind === 'found') {
    const { postHeaderLengths: _omit, ...format } = r.resume.format;
    void _omit;
    o.resume = { ...r.resume, format };
  }
  return o;
}

export async function runBinlogFind(opts: BinlogFindOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream, source: RelayLogSource = localRelaySource()): Promise<number> {
  if ((opts.readMasterLogFile === undefined) !== (opts.readMasterLogPos === undefined)) {
    err.write('ha binlog find: --read-master-log-file and --read-master-log-pos go together\n');
    return ExitCode.USAGE;
  }
  const coord = { file: opts.masterLogFile, position: opts.masterLogPos };
  const coordText = `${coord.file}:${coord.position}`;
  try {
    const files = await readRelayLogIndex(source, opts.relayLogIndex, { datadir: opts.datadir });
    const r = await mapRelayPosition(source, files, coord, {
      readPosition: opts.readMasterLogFile !== undefined ? { file: opts.readMasterLogFile, position: opts.readMasterLogPos! } : undefined,
      scanAll: opts.scanAll,
      verifyChecksums: opts.verifyChecksum,
    });
    if (opts.json) out.write(`${JSON.stringify(jsonOf(coord, opts.relayLogIndex, r))}\n`);
    else {
      out.write(`${describeResult(coordText, r)}\n`);
      for (const n of r.notes) err.write(`ha binlog find: note: ${n}\n`);
    }
    return exitCodeOf(r);
  } catch (e) {
    const known = e instanceof RelayMapError || e instanceof BinlogCorruptError || (e as NodeJS.ErrnoException).code !== undefined;
    if (!known) throw e;
    const message = (e as Error).message;
    if (opts.json) out.write(`${JSON.stringify({ coordinate: coord, relayLogIndex: opts.relayLogIndex, kind: 'error', error: message })}\n`);
    err.write(`ha binlog find: ${message}\n`);
    return ExitCode.FAILED;
  }
}
