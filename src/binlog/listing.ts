// How `ha binlog events` shows events: one text line per event (ListingLines, written straight
// into bytes) or one JSON object, with a short text for what each event says (infoText).
import type { EventInfo } from './decode.js';
import { eventTypeName } from './event-types.js';
import type { BinlogEvent } from './parser.js';

export function infoText(info: EventInfo | undefined): string {
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
    if (shown > max)
      return `${s
        .slice(0, i + 1)
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, max)}…`;
  }
  return s.replace(/\s+/g, ' ').trim();
}

/** What \s matches (and trim() removes): ECMAScript's WhiteSpace and LineTerminator. */
function isWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

export function eventJson(file: string, e: BinlogEvent): string {
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

/** The listing's column headings. */
export const COLUMNS = `${'position'.padStart(12)}  ${'type'.padEnd(24)} ${'size'.padStart(9)} ${'end_log_pos'.padStart(11)} ${'server_id'.padStart(10)}  info\n`;
