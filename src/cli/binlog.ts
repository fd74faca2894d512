// `ha binlog …`: the binlog engine for DBAs (and for checking the engine against the server's
// own tools). `events` lists events far faster than mysqlbinlog; `find` maps a master
// coordinate into a slave's relay logs (src/cli/binlog-find.ts).
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { sortLogFiles, readFormatDescription } from '../binlog/files.js';
import { eventTypeName } from '../binlog/event-types.js';
import { COLUMNS, ListingLines, eventJson } from '../binlog/listing.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent, type ParseSummary, type ParserOptions } from '../binlog/parser.js';
import { reusedBufferSource } from '../binlog/reader.js';
import { registerBinlogFind } from './binlog-find.js';
import { CommandExit } from './common.js';
import { ExitCode } from '../core/exit-codes.js';

export interface BinlogEventsOptions {
  files: string[];
  startPosition?: number;
  json: boolean;
  verifyChecksum: boolean;
  /** Only the per-file summary (counts by type): a pure scan, nothing printed per event. */
  summary: boolean;
}

function parseOffset(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`expected a byte offset, got "${value}"`);
  return Number(value);
}

export function registerBinlog(program: Command): void {
  const binlog = program
    .command('binlog')
    .description('read binlogs and relay logs: list events, map master positions into relay logs')
    .addHelpText(
      'after',
      `
Examples:
  $ ha binlog events --summary /var/lib/mysql/mysql-bin.000042
  $ ha binlog find --relay-log-index /var/lib/mysql/relay-bin.index \\
      --master-log-file mysql-bin.000042 --master-log-pos 1234
  $ ha binlog events --help            each subcommand's options, output and exit codes

Exit codes: those of the subcommand (0 ok, 1 damaged input or not found); 2 usage error,
or no subcommand given.`,
    );
  binlog
    .command('events')
    .description('list the events of binlog or relay-log files (position, type, size, end_log_pos, server_id, GTID, master file)')
    .argument('<file...>', 'binlog or relay-log files; ordered by their numeric suffix')
    .option('--start-position <offset>', 'start at this byte offset of the first file (an event boundary)', parseOffset)
    .option('--json', 'one JSON object per event (JSON lines), then one summary object per file', false)
    .option('--no-verify-checksum', 'do not check CRC32 checksums (faster; damage goes unnoticed)')
    .option('--summary', "print only each file's summary with event counts by type", false)
    .addHelpText(
      'after',
      `
Examples:
  $ ha binlog events /var/lib/mysql/mysql-bin.000042
  $ ha binlog events --start-position 1234 /var/lib/mysql/mysql-bin.000042
  $ ha binlog events --json /var/lib/mysql/relay-bin.0000* | jq 'select(.type == "Xid")'

A file that ends inside an event (a server that crashed mid-write) is reported, with the last
complete transaction's end. Damage (bad magic, impossible sizes, checksum mismatch) is an error
naming the file and offset.

Exit codes: 0 read to the end, 1 damaged or truncated input, 2 usage error.`,
    )
    .action(async (files: string[], opts: Omit<BinlogEventsOptions, 'files'>) => {
      const code = await runBinlogEvents({ ...opts, files }, process.stdout);
      if (code !== ExitCode.OK) throw new CommandExit(code);
    });
  registerBinlogFind(binlog);
}

/**
 * Bytes read at a time. The summary builds nothing per event: large reads, few of them. A full
 * listing builds a line per event, and a batch's events and lines are what survives the young
 * generation's collections: small batches keep that, and so the heap, small.
 */
const SUMMARY_CHUNK = 1024 * 1024;
const LISTING_CHUNK = 256 * 1024;

export async function runBinlogEvents(opts: BinlogEventsOptions, out: NodeJS.WritableStream): Promise<number> {
  const files = sortLogFiles(opts.files);
  let exit: number = ExitCode.OK;
  for (const [i, file] of files.entries()) {
    const start = i === 0 ? opts.startPosition : undefined;
    if (!opts.json) out.write(opts.summary ? `# ${file}\n` : `# ${file}\n${COLUMNS}`);
    let read: { summary: ParseSummary; byType?: Float64Array };
    try {
      const { source, parserOpts } = await openLog(file, start, opts);
      read = opts.summary ? await countEvents(source, parserOpts) : { summary: await listEvents(source, parserOpts, opts.json ? basename(file) : undefined, out) };
    } catch (err) {
      const message = err instanceof BinlogCorruptError ? err.message : `${file}: ${(err as Error).message}`;
      if (opts.json) out.write(`${JSON.stringify({ file: basename(file), error: message, offset: err instanceof BinlogCorruptError ? err.position : undefined })}\n`);
      else out.write(`# ERROR ${message}\n`);
      process.stderr.write(`ha binlog events: ${message}\n`);
      exit = ExitCode.FAILED;
      continue;
    }
    writeSummary(out, file, read.summary, read.byType, opts.json);
    if (read.summary.truncated) exit = ExitCode.FAILED;
  }
  return exit;
}

/** The file's bytes from `start` (after reading its Format_description), and how to parse them. */
async function openLog(file: string, start: number | undefined, opts: BinlogEventsOptions): Promise<{ source: AsyncIterable<Buffer>; parserOpts: ParserOptions }> {
  const chunk = opts.summary ? SUMMARY_CHUNK : LISTING_CHUNK;
  const parserOpts: ParserOptions = { file: basename(file), verifyChecksums: opts.verifyChecksum, decode: !opts.summary };
  if (start !== undefined && start > 4) {
    const fde = await readFormatDescription(file);
    if (start < fde.end) throw new Error(`--start-position ${start} is inside the Format_description event (it ends at ${fde.end})`);
    return { source: reusedBufferSource(file, start, undefined, chunk), parserOpts: { ...parserOpts, startPosition: start, format: fde.format } };
  }
  return { source: reusedBufferSource(file, 0, undefined, chunk), parserOpts };
}

/** --summary: the events counted by type code, none built. */
async function countEvents(source: AsyncIterable<Buffer>, parserOpts: ParserOptions): Promise<{ summary: ParseSummary; byType: Float64Array }> {
  const parser = new BinlogParser(parserOpts);
  const byType = new Float64Array(256);
  for await (const chunk of source) parser.count(chunk, byType);
  return { summary: parser.finish(), byType };
}

/** One line per event (with `jsonFile`, one JSON object naming that file), written as the output drains. */
async function listEvents(source: AsyncIterable<Buffer>, parserOpts: ParserOptions, jsonFile: string | undefined, out: NodeJS.WritableStream): Promise<ParseSummary> {
  const parser = new BinlogParser(parserOpts);
  // Each event goes into the output as soon as it is parsed, so that no chunk's worth of events
  // is alive at once: what survives the young generation's collections stays small.
  const lines = new ListingLines();
  const json: string[] = [];
  const add = jsonFile !== undefined ? (e: BinlogEvent) => void json.push(eventJson(jsonFile, e)) : (e: BinlogEvent) => lines.add(e);
  for await (const chunk of source) {
    parser.each(chunk, add);
    // One write per chunk: per-event writes would dominate the run time.
    let flushed = true;
    if (json.length) {
      flushed = out.write(json.join('\n') + '\n');
      json.length = 0;
    } else if (lines.length) {
      flushed = out.write(lines.take());
      lines.keptBy(out);
    }
    if (!flushed) await new Promise((resolve) => out.once('drain', resolve));
  }
  return parser.finish();
}

function writeSummary(out: NodeJS.WritableStream, file: string, summary: ParseSummary, counts: Float64Array | undefined, json: boolean): void {
  const byType: Record<string, number> = {};
  if (counts) for (const [type, n] of counts.entries()) if (n > 0) byType[eventTypeName(type)] = n;
  if (json) {
    out.write(
      `${JSON.stringify({ file: basename(file), summary: { ...(counts ? { byType } : {}), events: summary.events, endPosition: summary.endPosition, safeEnd: summary.safeEnd, truncated: summary.truncated ?? null, openTransactionStart: summary.openTransactionStart ?? null, relayLog: summary.isRelayLog } })}\n`,
    );
    return;
  }
  out.write(`# ${summary.events} events, read to offset ${summary.endPosition}${summary.isRelayLog ? ', relay log' : ''}\n`);
  if (counts)
    out.write(
      `# ${Object.entries(byType)
        .map(([t, n]) => `${t}=${n}`)
        .join(' ')}\n`,
    );
  if (summary.truncated) {
    out.write(
      `# TRUNCATED: the last event at offset ${summary.truncated.position} has ${summary.truncated.have} of its ${summary.truncated.need} bytes; the last complete transaction ends at ${summary.safeEnd}\n`,
    );
  } else if (summary.openTransactionStart !== undefined) {
    out.write(`# the file ends inside a transaction that starts at ${summary.openTransactionStart}; the last complete transaction ends at ${summary.safeEnd}\n`);
  }
}
