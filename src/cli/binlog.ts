// `ha binlog …`: the binlog engine for DBAs (and for checking the engine against the server's
// own tools). `events` lists events far faster than mysqlbinlog; `find` maps a master
// coordinate into a slave's relay logs (src/cli/binlog-find.ts).
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { sortLogFiles, readFormatDescription } from '../binlog/files.js';
import { eventTypeName } from '../binlog/event-types.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent, type ParseSummary, type ParserOptions } from '../binlog/parser.js';
import { reusedBufferSource } from '../binlog/reader.js';
import type { EventInfo } from '../binlog/decode.js';
import { registerBinlogFind } from './binlog-find.js';
import { CommandExit } from './common.js';
import { ExitCode } from './exit-codes.js';

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
    .option('--summary', 'print only each file\'s summary with event counts by type', false)
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

function infoText(info: EventInfo | undefined): string {
  if (!info) return '';
  switch (info.kind) {
    case 'format':
      return `server ${info.format.serverVersion}, checksum ${info.format.checksum}`;
    case 'rotate':
      return `→ ${info.nextFile}:${info.position}`;
    case 'query':
      return `${info.database ? `${info.database}: ` : ''}${info.compressed ? '(compressed)' : oneLine(info.sql, 120)}`;
    case 'xid':
      return `xid ${info.xid}`;
    case 'gtid':
      return info.flavor === 'mariadb' ? `GTID ${info.gtid}${info.standalone ? ' (standalone)' : ''}` : `${info.anonymous ? 'anonymous ' : ''}GTID ${info.anonymous ? '' : info.gtid}`.trim();
    case 'previous-gtids':
      return info.gtidSet || '(empty)';
    case 'gtid-list':
      return `[${info.gtids.join(',')}]`;
    case 'checkpoint':
      return info.file;
    case 'annotate':
      return oneLine(info.sql, 120);
    case 'payload':
      return `${info.compression}, ${info.payloadSize} → ${info.uncompressedSize} bytes`;
    case 'incident':
      return `incident ${info.incident}: ${info.message}`;
    case 'table-map':
      return `${info.database}.${info.table} (id ${info.tableId})`;
  }
}

/**
 * s.replace(/\s+/g, ' ').trim(), cut to `max` characters with '…'. A statement is read only as
 * far as the characters shown: collapsing a whole 4 KiB statement per event was much of a
 * listing's garbage.
 */
export function oneLine(s: string, max: number): string {
  let shown = 0; // characters of the collapsed, trimmed text up to i
  let space = false; // whitespace since the last character shown (not at the start)
  for (let i = 0; i < s.length; i++) {
    if (isWhitespace(s.charCodeAt(i))) {
      space = shown > 0;
      continue;
    }
    shown += space ? 2 : 1;
    space = false;
    if (shown > max) return `${s.slice(0, i + 1).replace(/\s+/g, ' ').trim().slice(0, max)}…`;
  }
  return s.replace(/\s+/g, ' ').trim();
}

/** What \s matches (and trim() removes): ECMAScript's WhiteSpace and LineTerminator. */
function isWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function eventJson(file: string, e: BinlogEvent): string {
  const o: Record<string, unknown> = {
    file,
    position: e.position,
    type: eventTypeName(e.type),
    typeCode: e.type,
    size: e.size,
    end: e.end,
    endLogPos: e.logPos,
    serverId: e.serverId,
    timestamp: e.timestamp,
  };
  if (e.info?.kind === 'gtid') o.gtid = e.info.gtid;
  if (e.masterFile !== undefined) {
    o.masterFile = e.masterFile;
    o.masterEnd = e.masterEnd;
  }
  if (e.own !== undefined) o.own = e.own;
  if (e.endsTransaction) o.endsTransaction = true;
  const text = infoText(e.info);
  if (text) o.info = text;
  return JSON.stringify(o);
}

/**
 * The listing's lines, written straight into bytes: one line per event, columns padded as
 * `${String(position).padStart(12)}  ${type.padEnd(24)} ${String(size).padStart(9)} …`. Built as
 * strings (a string per column, a template, a join per batch), a line cost ~2 KB of garbage,
 * and that churn is what grew the heap.
 */
export class ListingLines {
  private buf = Buffer.allocUnsafe(LINES_BUFFER);
  private len = 0;

  /** Bytes added since the last take. */
  get length(): number {
    return this.len;
  }

  add(e: BinlogEvent): void {
    this.number(e.position, 12);
    this.ascii('  ');
    this.bytes(typeColumn(e.type));
    this.ascii(' ');
    this.number(e.size, 9);
    this.ascii(' ');
    this.number(e.logPos, 11);
    this.ascii(' ');
    this.number(e.serverId, 10);
    this.ascii('  ');
    this.text(infoText(e.info));
    if (e.masterFile !== undefined) {
      this.ascii('  [');
      this.text(e.masterFile);
      this.ascii(':');
      if (typeof e.masterEnd === 'number') this.number(e.masterEnd, 0);
      else this.text(`${e.masterEnd}`);
      this.ascii(']');
    }
    this.ascii('\n');
  }

  /** The lines added since the last take. The next lines overwrite them unless keptBy() says the stream still holds them. */
  take(): Buffer {
    const lines = this.buf.subarray(0, this.len);
    this.len = 0;
    return lines;
  }

  /**
   * After writing what take() gave to `out`: the bytes may be reused once the stream holds none
   * (written through, as to a file or a pipe on Linux); otherwise the next lines go to a new
   * buffer. Reusing one buffer keeps a listing from leaving a dead buffer per batch to the GC.
   */
  keptBy(out: NodeJS.WritableStream): void {
    if ((out as { writableLength?: number }).writableLength !== 0) this.buf = Buffer.allocUnsafe(this.buf.length);
  }

  /** String(n).padStart(width). */
  private number(n: number, width: number): void {
    if (!Number.isSafeInteger(n) || n < 0) return this.text(String(n).padStart(width));
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(Math.max(width, digits));
    for (let i = digits; i < width; i++) this.buf[this.len++] = 0x20;
    let at = this.len + digits;
    this.len = at;
    let x = n;
    do {
      this.buf[--at] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
  }

  private ascii(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  private bytes(b: Buffer): void {
    this.room(b.length);
    this.len += b.copy(this.buf, this.len);
  }

  private text(s: string): void {
    this.room(3 * s.length); // UTF-8: at most 3 bytes per UTF-16 unit
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
}

const LINES_BUFFER = 64 * 1024;
const TYPE_COLUMNS: (Buffer | undefined)[] = [];

/** eventTypeName(type).padEnd(24), as bytes. */
function typeColumn(type: number): Buffer {
  return (TYPE_COLUMNS[type] ??= Buffer.from(eventTypeName(type).padEnd(24), 'utf8'));
}

const COLUMNS = `${'position'.padStart(12)}  ${'type'.padEnd(24)} ${'size'.padStart(9)} ${'end_log_pos'.padStart(11)} ${'server_id'.padStart(10)}  info\n`;
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
    out.write(`${JSON.stringify({ file: basename(file), summary: { ...(counts ? { byType } : {}), events: summary.events, endPosition: summary.endPosition, safeEnd: summary.safeEnd, truncated: summary.truncated ?? null, openTransactionStart: summary.openTransactionStart ?? null, relayLog: summary.isRelayLog } })}\n`);
    return;
  }
  out.write(`# ${summary.events} events, read to offset ${summary.endPosition}${summary.isRelayLog ? ', relay log' : ''}\n`);
  if (counts) out.write(`# ${Object.entries(byType).map(([t, n]) => `${t}=${n}`).join(' ')}\n`);
  if (summary.truncated) {
    out.write(`# TRUNCATED: the last event at offset ${summary.truncated.position} has ${summary.truncated.have} of its ${summary.truncated.need} bytes; the last complete transaction ends at ${summary.safeEnd}\n`);
  } else if (summary.openTransactionStart !== undefined) {
    out.write(`# the file ends inside a transaction that starts at ${summary.openTransactionStart}; the last complete transaction ends at ${summary.safeEnd}\n`);
  }
}
