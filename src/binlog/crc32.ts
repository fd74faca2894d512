// CRC32 (the binlog's, = zlib's) for buffer ranges. Most binlog events are small, and for them
// the native zlib.crc32 costs more in call overhead and the Buffer view it needs than the
// checksum itself: below SMALL bytes a slice-by-8 table in JS is about twice as fast; above it,
// native code is (up to ~5 GB/s).
import { crc32 as nativeCrc32 } from 'node:zlib';

const SMALL = 256;
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
  if (end - start >= SMALL) return nativeCrc32(buf.subarray(start, end), crc) >>> 0;
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
