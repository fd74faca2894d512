// `ha binlog …`: the binlog engine for DBAs (and for checking the engine against the server's
// own tools). `events` lists events far faster than mysqlbinlog; `find` maps a master
// coordinate into a slave's relay logs (src/cli/binlog-find.ts).
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { sortLogFiles, readFormatDescription } from '../binlog/files.js';
import { eventTypeName } from '../binlog/event-types.js';
import type { BinlogEvent, ParseSummary } from '../binlog/parser.js';
import { BinlogCorruptError } from '../binlog/parser.js';
import { readEventBatches, reusedBufferSource } from '../binlog/reader.js';
import type { EventInfo } from '../binlog/decode.js';
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
      return info.flavor === 'mariadb'
        ? `GTID ${info.gtid}${info.standalone ? ' (standalone)' : ''}`
        : `${info.anonymous ? 'anonymous ' : ''}GTID ${info.anonymous ? '' : info.gtid}`.trim();
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

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
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

function eventLine(e: BinlogEvent): string {
  const master = e.masterFile !== undefined ? `  [${e.masterFile}:${e.masterEnd}]` : '';
  return `${String(e.position).padStart(12)}  ${eventTypeName(e.type).padEnd(24)} ${String(e.size).padStart(9)} ${String(e.logPos).padStart(11)} ${String(e.serverId).padStart(10)}  ${infoText(e.info)}${master}\n`;
}

export async function runBinlogEvents(opts: BinlogEventsOptions, out: NodeJS.WritableStream): Promise<number> {
  const files = sortLogFiles(opts.files);
  let exit: number = ExitCode.OK;
  for (const [i, file] of files.entries()) {
    const start = i === 0 ? opts.startPosition : undefined;
    if (!opts.json && opts.summary) out.write(`# ${file}\n`);
    if (!opts.json && !opts.summary) {
      out.write(`# ${file}\n${'position'.padStart(12)}  ${'type'.padEnd(24)} ${'size'.padStart(9)} ${'end_log_pos'.padStart(11)} ${'server_id'.padStart(10)}  info\n`);
    }
    let summary: ParseSummary | undefined;
    const counts = new Map<number, number>();
    try {
      let source;
      let parserOpts;
      // A full listing builds a line per event: smaller chunks keep each batch's strings small.
      const chunk = opts.summary ? 256 * 1024 : 64 * 1024;
      if (start !== undefined && start > 4) {
        const fde = await readFormatDescription(file);
        if (start < fde.end) throw new Error(`--start-position ${start} is inside the Format_description event (it ends at ${fde.end})`);
        source = reusedBufferSource(file, start, undefined, chunk);
        parserOpts = { file: basename(file), startPosition: start, format: fde.format, verifyChecksums: opts.verifyChecksum, decode: !opts.summary };
      } else {
        source = reusedBufferSource(file, 0, undefined, chunk);
        parserOpts = { file: basename(file), verifyChecksums: opts.verifyChecksum, decode: !opts.summary };
      }
      const it = readEventBatches(source, parserOpts);
      for (;;) {
        const r = await it.next();
        if (r.done) {
          summary = r.value;
          break;
        }
        if (opts.summary) {
          for (const e of r.value) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
          continue;
        }
        // One write per batch: per-event writes would dominate the run time.
        const text = opts.json ? r.value.map((e) => eventJson(basename(file), e)).join('\n') + '\n' : r.value.map(eventLine).join('');
        if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
      }
    } catch (err) {
      const message = err instanceof BinlogCorruptError ? err.message : `${file}: ${(err as Error).message}`;
      if (opts.json) out.write(`${JSON.stringify({ file: basename(file), error: message, offset: err instanceof BinlogCorruptError ? err.position : undefined })}\n`);
      else out.write(`# ERROR ${message}\n`);
      process.stderr.write(`ha binlog events: ${message}\n`);
      exit = ExitCode.FAILED;
      continue;
    }
    const byType = Object.fromEntries([...counts].sort((a, b) => a[0] - b[0]).map(([t, n]) => [eventTypeName(t), n]));
    if (opts.json) {
      out.write(
        `${JSON.stringify({ file: basename(file), summary: { ...(opts.summary ? { byType } : {}), events: summary.events, endPosition: summary.endPosition, safeEnd: summary.safeEnd, truncated: summary.truncated ?? null, openTransactionStart: summary.openTransactionStart ?? null, relayLog: summary.isRelayLog } })}\n`,
      );
    } else {
      out.write(`# ${summary.events} events, read to offset ${summary.endPosition}${summary.isRelayLog ? ', relay log' : ''}\n`);
      if (opts.summary)
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
    if (summary.truncated) exit = ExitCode.FAILED;
  }
  return exit;
}
