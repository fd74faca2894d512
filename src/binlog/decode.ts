// Body decoders for the events ha needs to understand. Every decoder reads only inside the buffer
// it is given and throws a DecodeError on anything inconsistent, so damaged bytes can never crash
// the process or make a reader loop.
import { EventType } from './event-types.js';

export class DecodeError extends Error {}

export interface FormatDescription {
  binlogVersion: number;
  serverVersion: string;
  flavor: 'mysql' | 'mariadb';
  createTimestamp: number;
  headerLength: number;
  /** Post-header length of each event type (index = type - 1). */
  postHeaderLengths: number[];
  /** 'crc32' when events carry a CRC32 trailer, 'none' otherwise. */
  checksum: 'crc32' | 'none';
  /** The FDE ends with a checksum-algorithm byte and its own CRC32 (MySQL ≥ 5.6.1, MariaDB ≥ 5.3). */
  hasChecksumField: boolean;
}

export type EventInfo =
  | { kind: 'format'; format: FormatDescription }
  | { kind: 'rotate'; nextFile: string; position: number }
  | { kind: 'query'; database: string; sql: string; sqlTruncated: boolean; errorCode: number; threadId: number; execTime: number; compressed?: boolean }
  | { kind: 'xid'; xid: bigint }
  | { kind: 'gtid'; gtid: string; flavor: 'mysql'; anonymous: boolean; lastCommitted?: bigint; sequenceNumber?: bigint }
  | { kind: 'gtid'; gtid: string; flavor: 'mariadb'; domain: number; serverId: number; seq: bigint; standalone: boolean; flags: number; xa?: boolean }
  | { kind: 'previous-gtids'; gtidSet: string }
  | { kind: 'gtid-list'; gtids: string[] }
  | { kind: 'checkpoint'; file: string }
  | { kind: 'annotate'; sql: string }
  | { kind: 'payload'; payloadSize: number; compression: string; uncompressedSize: number }
  | { kind: 'incident'; incident: number; message: string }
  | { kind: 'table-map'; tableId: bigint; database: string; table: string };

function need(buf: Buffer, end: number, what: string): void {
  if (end > buf.length) throw new DecodeError(`${what}: needs ${end} bytes, event body has ${buf.length}`);
}

function cstr(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('latin1', start, nul >= 0 && nul < end ? nul : end);
}

/** MySQL ≥ 5.6.1 and MariaDB ≥ 5.3 write a checksum-algorithm byte (+4) at the end of every FDE. */
export function versionHasChecksumByte(serverVersion: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion);
  if (!m) return false;
  const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (/mariadb/i.test(serverVersion)) return maj > 5 || (maj === 5 && min >= 3);
  return maj > 5 || (maj === 5 && (min > 6 || (min === 6 && pat >= 1)));
}

export function decodeFormatDescription(body: Buffer): FormatDescription {
  need(body, 57, 'Format_description');
  const binlogVersion = body.readUInt16LE(0);
  if (binlogVersion !== 4) throw new DecodeError(`Format_description: binlog version ${binlogVersion}, only version 4 is supported`);
  const serverVersion = cstr(body, 2, 52);
  const headerLength = body.readUInt8(56);
  if (headerLength !== 19) throw new DecodeError(`Format_description: header length ${headerLength}, expected 19`);
  const hasAlg = versionHasChecksumByte(serverVersion);
  const postEnd = hasAlg ? body.length - 5 : body.length;
  if (postEnd < 57) throw new DecodeError('Format_description: too short for its checksum byte');
  const postHeaderLengths = [...body.subarray(57, postEnd)];
  let checksum: FormatDescription['checksum'] = 'none';
  if (hasAlg) {
    const alg = body.readUInt8(postEnd);
    if (alg === 1) checksum = 'crc32';
    else if (alg !== 0 && alg !== 255) throw new DecodeError(`Format_description: unknown checksum algorithm ${alg}`);
  }
  return {
    binlogVersion,
    serverVersion,
    flavor: /mariadb/i.test(serverVersion) ? 'mariadb' : 'mysql',
    createTimestamp: body.readUInt32LE(52),
    headerLength,
    postHeaderLengths,
    checksum,
    hasChecksumField: hasAlg,
  };
}

/** A format for files whose FDE has not been seen (a stream starting mid-file): decoding still works. */
export function defaultFormat(flavor: 'mysql' | 'mariadb', checksum: 'crc32' | 'none'): FormatDescription {
  const post = new Array<number>(200).fill(0);
  post[EventType.QUERY - 1] = 13;
  post[EventType.ROTATE - 1] = 8;
  post[EventType.TABLE_MAP - 1] = 8;
  return {
    binlogVersion: 4,
    serverVersion: flavor === 'mariadb' ? '10.0.0-MariaDB' : '5.7.0',
    flavor,
    createTimestamp: 0,
    headerLength: 19,
    postHeaderLengths: post,
    checksum,
    hasChecksumField: true,
  };
}

function postHeader(format: FormatDescription, type: number, fallback: number): number {
  const v = format.postHeaderLengths[type - 1];
  return v === undefined || v === 0 ? fallback : v;
}

function uuid(buf: Buffer, at: number): string {
  const h = buf.toString('hex', at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** MySQL's packed integer (net_field_length). */
function packedInt(buf: Buffer, at: number): [number, number] {
  need(buf, at + 1, 'packed integer');
  const first = buf[at]!;
  if (first < 251) return [first, at + 1];
  if (first === 252) {
    need(buf, at + 3, 'packed integer');
    return [buf.readUInt16LE(at + 1), at + 3];
  }
  if (first === 253) {
    need(buf, at + 4, 'packed integer');
    return [buf.readUIntLE(at + 1, 3), at + 4];
  }
  if (first === 254) {
    need(buf, at + 9, 'packed integer');
    return [Number(buf.readBigUInt64LE(at + 1)), at + 9];
  }
  throw new DecodeError(`bad packed integer prefix ${first}`);
}

const SQL_KEEP = 4096;

/**
 * Decode what ha needs from an event body (without header and checksum). `body` may be only the
 * first part of a large event (`complete` false): decoders then read what they can.
 */
export function decodeEvent(type: number, body: Buffer, format: FormatDescription, complete: boolean): EventInfo | undefined {
  switch (type) {
    case EventType.FORMAT_DESCRIPTION:
      return { kind: 'format', format: decodeFormatDescription(body) };
    case EventType.ROTATE: {
      const ph = postHeader(format, type, 8);
      need(body, ph, 'Rotate');
      const position = Number(body.readBigUInt64LE(0));
      return { kind: 'rotate', position, nextFile: body.toString('latin1', ph) };
    }
    case EventType.QUERY:
    case EventType.MARIADB_QUERY_COMPRESSED:
    case EventType.EXECUTE_LOAD_QUERY: {
      const ph = postHeader(format, type === EventType.MARIADB_QUERY_COMPRESSED ? EventType.QUERY : type, 13);
      need(body, 13, 'Query');
      const threadId = body.readUInt32LE(0);
      const execTime = body.readUInt32LE(4);
      const dbLen = body.readUInt8(8);
      const errorCode = body.readUInt16LE(9);
      const statusLen = body.readUInt16LE(11);
      const dbStart = ph + statusLen;
      need(body, dbStart + dbLen + 1, 'Query (status variables and database)');
      const database = body.toString('utf8', dbStart, dbStart + dbLen);
      const sqlStart = dbStart + dbLen + 1;
      const sqlEnd = Math.min(body.length, sqlStart + SQL_KEEP);
      if (type === EventType.MARIADB_QUERY_COMPRESSED) {
        return { kind: 'query', database, sql: '', sqlTruncated: true, errorCode, threadId, execTime, compressed: true };
      }
      return { kind: 'query', database, sql: body.toString('utf8', sqlStart, sqlEnd), sqlTruncated: sqlEnd < body.length || !complete, errorCode, threadId, execTime };
    }
    case EventType.XID:
      need(body, 8, 'Xid');
      return { kind: 'xid', xid: body.readBigUInt64LE(0) };
    case EventType.GTID:
    case EventType.ANONYMOUS_GTID: {
      need(body, 25, 'Gtid');
      const sid = uuid(body, 1);
      const gno = body.readBigInt64LE(17);
      const info: EventInfo = { kind: 'gtid', flavor: 'mysql', gtid: `${sid}:${gno}`, anonymous: type === EventType.ANONYMOUS_GTID };
      if (body.length >= 42 && body[25] === 2) {
        info.lastCommitted = body.readBigInt64LE(26);
        info.sequenceNumber = body.readBigInt64LE(34);
      }
      return info;
    }
    case EventType.PREVIOUS_GTIDS:
      return { kind: 'previous-gtids', gtidSet: decodeGtidSet(body) };
    case EventType.MARIADB_GTID: {
      need(body, 13, 'MariaDB Gtid');
      const seq = body.readBigUInt64LE(0);
      const domain = body.readUInt32LE(8);
      const flags = body.readUInt8(12);
      return { kind: 'gtid', flavor: 'mariadb', gtid: '', domain, serverId: 0, seq, standalone: (flags & 1) !== 0, flags, xa: (flags & 0x40) !== 0 };
    }
    case EventType.MARIADB_GTID_LIST: {
      need(body, 4, 'MariaDB Gtid_list');
      const count = body.readUInt32LE(0) & 0x0fffffff;
      need(body, 4 + count * 16, 'MariaDB Gtid_list');
      const gtids: string[] = [];
      for (let i = 0; i < count; i++) {
        const at = 4 + i * 16;
        gtids.push(`${body.readUInt32LE(at)}-${body.readUInt32LE(at + 4)}-${body.readBigUInt64LE(at + 8)}`);
      }
      return { kind: 'gtid-list', gtids };
    }
    case EventType.MARIADB_BINLOG_CHECKPOINT: {
      need(body, 4, 'Binlog_checkpoint');
      const len = body.readUInt32LE(0);
      need(body, 4 + len, 'Binlog_checkpoint');
      return { kind: 'checkpoint', file: body.toString('latin1', 4, 4 + len) };
    }
    case EventType.MARIADB_ANNOTATE_ROWS:
      return { kind: 'annotate', sql: body.toString('utf8', 0, Math.min(body.length, SQL_KEEP)) };
    case EventType.TRANSACTION_PAYLOAD: {
      let at = 0;
      let payloadSize = 0;
      let compression = 'unknown';
      let uncompressedSize = 0;
      for (;;) {
        const [field, a1] = packedInt(body, at);
        at = a1;
        if (field === 0) break;
        const [len, a2] = packedInt(body, at);
        const [value] = packedInt(body, a2);
        at = a2 + len;
        if (field === 1) payloadSize = value;
        else if (field === 2) compression = value === 0 ? 'zstd' : value === 255 ? 'none' : `type ${value}`;
        else if (field === 3) uncompressedSize = value;
      }
      return { kind: 'payload', payloadSize, compression, uncompressedSize };
    }
    case EventType.INCIDENT: {
      need(body, 3, 'Incident');
      const incident = body.readUInt16LE(0);
      const len = body.readUInt8(2);
      return { kind: 'incident', incident, message: body.toString('utf8', 3, Math.min(body.length, 3 + len)) };
    }
    case EventType.TABLE_MAP: {
      const ph = postHeader(format, type, 8);
      need(body, ph + 1, 'Table_map');
      const tableId = ph === 6 ? BigInt(body.readUIntLE(0, 4)) : BigInt(body.readUIntLE(0, 6));
      const dbLen = body.readUInt8(ph);
      need(body, ph + 1 + dbLen + 2, 'Table_map');
      const database = body.toString('utf8', ph + 1, ph + 1 + dbLen);
      const tLenAt = ph + 1 + dbLen + 1;
      const tLen = body.readUInt8(tLenAt);
      need(body, tLenAt + 1 + tLen, 'Table_map');
      return { kind: 'table-map', tableId, database, table: body.toString('utf8', tLenAt + 1, tLenAt + 1 + tLen) };
    }
    default:
      return undefined;
  }
}

/** MySQL's binary GTID set (Previous_gtids): n_sids, then per sid its intervals [start, end). */
export function decodeGtidSet(body: Buffer): string {
  need(body, 8, 'GTID set');
  const first = body.readBigUInt64LE(0);
  // MySQL 8.3+ tagged format sets the top byte; ha reports it as such rather than misreading it.
  if (first >> 56n !== 0n) return '(tagged GTID set)';
  const nSids = Number(first);
  if (nSids > body.length / 24) throw new DecodeError(`GTID set: ${nSids} sources cannot fit in ${body.length} bytes`);
  let at = 8;
  const parts: string[] = [];
  for (let i = 0; i < nSids; i++) {
    need(body, at + 24, 'GTID set');
    const sid = uuid(body, at);
    const n = Number(body.readBigUInt64LE(at + 16));
    at += 24;
    need(body, at + n * 16, 'GTID set intervals');
    const iv: string[] = [];
    for (let k = 0; k < n; k++) {
      const s = body.readBigInt64LE(at);
      const e = body.readBigInt64LE(at + 8) - 1n;
      iv.push(s === e ? `${s}` : `${s}-${e}`);
      at += 16;
    }
    parts.push(`${sid}:${iv.join(':')}`);
  }
  return parts.join(',');
}
