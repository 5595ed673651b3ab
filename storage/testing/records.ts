// Test helper: builds and parses uncompressed record batch v2 (storage itself never decodes records;
// tests need real batches with keys and values). Kept here because storage/ imports nothing of ours.
import { crc32c } from '@node-rs/crc32';

function varint(n: number, out: number[]): void {
  let z = (n << 1) ^ (n >> 31); // zig-zag, 32-bit is enough for test sizes
  z >>>= 0;
  while (z > 0x7f) { out.push((z & 0x7f) | 0x80); z >>>= 7; }
  out.push(z);
}

export interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** Absolute timestamp; defaults to the batch's base timestamp. */
  timestamp?: number;
}

/** An uncompressed v2 batch with base offset 0 (storage assigns offsets). */
export function buildBatch(records: TestRecord[], baseTimestamp = 1_700_000_000_000): Buffer {
  const body: number[][] = records.map((r, i) => {
    const rec: number[] = [0]; // attributes
    varint((r.timestamp ?? baseTimestamp) - baseTimestamp, rec);
    varint(i, rec);
    if (r.key === null) varint(-1, rec); else { varint(r.key.length, rec); rec.push(...r.key); }
    if (r.value === null) varint(-1, rec); else { varint(r.value.length, rec); rec.push(...r.value); }
    varint(0, rec); // headers
    const framed: number[] = [];
    varint(rec.length, framed);
    return framed.concat(rec);
  });
  const recBytes = body.reduce((n, r) => n + r.length, 0);
  const b = Buffer.alloc(61 + recBytes);
  let maxTs = baseTimestamp;
  for (const r of records) maxTs = Math.max(maxTs, r.timestamp ?? baseTimestamp);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(-1, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(0, 21);
  b.writeInt32BE(records.length - 1, 23);
  b.writeBigInt64BE(BigInt(baseTimestamp), 27);
  b.writeBigInt64BE(BigInt(maxTs), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(records.length, 57);
  let p = 61;
  for (const r of body) { b.set(r, p); p += r.length; }
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

/** A batch of one record with the given key/value strings. */
export function kv(key: string, value: string, timestamp?: number): Buffer {
  return buildBatch([{ key: Buffer.from(key), value: Buffer.from(value) }], timestamp);
}

function readVarint(b: Buffer, pos: { p: number }): number {
  let shift = 0;
  let z = 0;
  for (;;) {
    const byte = b[pos.p++];
    z |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  z >>>= 0;
  return (z >>> 1) ^ -(z & 1);
}

export interface ParsedRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
}

/** Parses every record of the concatenated batches in `buf` (checks CRCs; throws on damage). */
export function parseRecords(buf: Buffer): ParsedRecord[] {
  const out: ParsedRecord[] = [];
  let p = 0;
  while (p < buf.length) {
    const size = 12 + buf.readInt32BE(p + 8);
    const batch = buf.subarray(p, p + size);
    if (crc32c(batch.subarray(21)) !== batch.readUInt32BE(17)) throw new Error(`CRC mismatch in batch at ${p}`);
    const base = Number(batch.readBigInt64BE(0));
    const baseTs = Number(batch.readBigInt64BE(27));
    const count = batch.readInt32BE(57);
    const pos = { p: 61 };
    for (let i = 0; i < count; i++) {
      readVarint(batch, pos); // length
      pos.p++; // attributes
      const tsDelta = readVarint(batch, pos);
      const offDelta = readVarint(batch, pos);
      const kl = readVarint(batch, pos);
      const key = kl < 0 ? null : batch.toString('utf8', pos.p, pos.p + kl);
      if (kl > 0) pos.p += kl;
      const vl = readVarint(batch, pos);
      const value = vl < 0 ? null : batch.toString('utf8', pos.p, pos.p + vl);
      if (vl > 0) pos.p += vl;
      const hc = readVarint(batch, pos);
      if (hc !== 0) throw new Error('headers not supported by the test parser');
      out.push({ offset: base + offDelta, timestamp: baseTs + tsDelta, key, value });
    }
    p += size;
  }
  return out;
}
