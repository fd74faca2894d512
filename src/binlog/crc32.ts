// CRC32 (the binlog's, = zlib's) for buffer ranges, and the check of many events' checksums at once.
//
// Node's zlib.crc32 (Node >= 20.15 / 22.2) is native, but each call costs a Buffer view and
// argument checks: below SMALL bytes a slice-by-8 table in JS is faster. Without zlib.crc32 (older
// Node 20) the table does everything.
//
// Most binlog events are small (a GTID event is 42 bytes), so checking them one by one is mostly
// call overhead. ChecksumRun checks a run of consecutive events with ONE pass over their bytes: an
// event that ends with the right CRC32 of its other bytes has the CRC32 RESIDUE as a whole, so
// when every checksum is right the CRC32 of the run depends only on where the events end (see
// ChecksumRun.check). A run that does not add up is checked event by event, to name the bad one.
import * as zlib from 'node:zlib';

const SMALL = 256;
/** crc32(data ‖ le32(crc32(data))) for any data. */
const RESIDUE = 0x2144df1c;

const nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

const T = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let t = 1; t < 8; t++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[t * 256 + n] = c;
  }
}

/** CRC32 of buf[start, end), continuing from `crc` (0 to start). */
export function crc32Range(buf: Uint8Array, start: number, end: number, crc = 0): number {
  if (nativeCrc32 !== undefined && end - start >= SMALL) return nativeCrc32(buf.subarray(start, end), crc) >>> 0;
  return crc32Table(buf, start, end, crc);
}

/** crc32Range by the table alone (what runs where zlib.crc32 is missing). */
export function crc32Table(buf: Uint8Array, start: number, end: number, crc = 0): number {
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ c;
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    c =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + (b & 0xff)]! ^
      T[512 + ((b >>> 8) & 0xff)]! ^
      T[256 + ((b >>> 16) & 0xff)]! ^
      T[b >>> 24]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Longest run checked in one pass: bounds the table below (1 MiB of it). */
const MAX_RUN_BYTES = 256 * 1024;
/** RESIDUE_AFTER[d]: what an event's RESIDUE contributes to a run's CRC32 when d bytes follow it. */
let RESIDUE_AFTER: Int32Array | undefined;

function residueAfter(): Int32Array {
  if (RESIDUE_AFTER) return RESIDUE_AFTER;
  const r = new Int32Array(MAX_RUN_BYTES + 1);
  // d zero bytes through the CRC register, without the final inversion.
  r[0] = RESIDUE;
  for (let d = 0; d < MAX_RUN_BYTES; d++) r[d + 1] = T[r[d]! & 0xff]! ^ (r[d]! >>> 8);
  RESIDUE_AFTER = r;
  return r;
}

/**
 * Events that each end with a CRC32 of their other bytes, consecutive in one buffer, checked
 * together. Why it works: the CRC register is affine in its input, so for events E1 … En (Li
 * bytes each) the CRC32 of E1‖…‖En, when each Ei has the residue as its CRC32, is the XOR over i
 * of RESIDUE run through the zero bytes that follow Ei in the run (RESIDUE_AFTER). One event with
 * a wrong checksum always shows (its error is shifted, never cancelled, by an invertible map); two
 * or more in one run could cancel out with a chance of 2^-32.
 */
export class ChecksumRun {
  private buf: Uint8Array | undefined;
  private first = 0;
  private end = 0;
  private ends = new Int32Array(4096);
  private count = 0;

  /** Events in the run. */
  get size(): number {
    return this.count;
  }

  /** Offset of the run's first event in its buffer. */
  get start(): number {
    return this.first;
  }

  /** Adds the event buf[start, end). False when it cannot join this run (another buffer, not next, too long): check() first. */
  add(buf: Uint8Array, start: number, end: number): boolean {
    if (this.count === 0) {
      this.buf = buf;
      this.first = start;
    } else if (buf !== this.buf || start !== this.end || end - this.first > MAX_RUN_BYTES) {
      return false;
    }
    if (this.count === this.ends.length) {
      const more = new Int32Array(this.ends.length * 2);
      more.set(this.ends);
      this.ends = more;
    }
    this.ends[this.count++] = end;
    this.end = end;
    return true;
  }

  /**
   * Checks the run and empties it. Returns the first event whose checksum is wrong — its
   * [start, end) in the buffer, the CRC32 it carries and the one computed — or undefined.
   */
  check(): BadChecksum | undefined {
    const n = this.count;
    if (n === 0) return undefined;
    const buf = this.buf!;
    const { first, end } = this;
    this.count = 0;
    this.buf = undefined;
    // One event (perhaps longer than the table) is checked as it is.
    if (n > 1) {
      const after = residueAfter();
      let expected = 0;
      for (let i = 0; i < n; i++) expected ^= after[end - this.ends[i]!]!;
      if (crc32Range(buf, first, end) === expected >>> 0) return undefined;
    }
    let s = first;
    for (let i = 0; i < n; i++) {
      const e = this.ends[i]!;
      const stored = readUInt32LE(buf, e - 4);
      const computed = crc32Range(buf, s, e - 4);
      if (stored !== computed) return { start: s, end: e, stored, computed };
      s = e;
    }
    if (n > 1) throw new Error('ChecksumRun: the run does not add up, yet every event checks (a bug)');
    return undefined;
  }
}

export interface BadChecksum {
  start: number;
  end: number;
  stored: number;
  computed: number;
}

function readUInt32LE(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}
