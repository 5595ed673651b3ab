// The aborted-transaction index of a segment, `<base>.txnindex`, in Kafka's layout: 34-byte entries of
// int16 version (0), int64 producerId, int64 firstOffset, int64 lastOffset, int64 lastStableOffset. An
// entry lives in the segment holding its abort marker (lastOffset) and goes when that segment is deleted.
// Read-committed fetches return the entries overlapping the fetched range so clients can drop the
// aborted records. Storage does not decode markers: the broker reports each abort (addAbortedTxn).

export interface AbortedTxn {
  producerId: bigint;
  /** First offset of the transaction in this partition. */
  firstOffset: number;
  /** Offset of the abort marker. */
  lastOffset: number;
  /** The last stable offset once this transaction completed. */
  lastStableOffset: number;
}

export const TXN_ENTRY_SIZE = 34;

export function serializeTxnIndex(entries: readonly AbortedTxn[]): Buffer {
  const b = Buffer.allocUnsafe(entries.length * TXN_ENTRY_SIZE);
  let o = 0;
  for (const e of entries) {
    b.writeInt16BE(0, o);
    b.writeBigInt64BE(e.producerId, o + 2);
    b.writeBigInt64BE(BigInt(e.firstOffset), o + 10);
    b.writeBigInt64BE(BigInt(e.lastOffset), o + 18);
    b.writeBigInt64BE(BigInt(e.lastStableOffset), o + 26);
    o += TXN_ENTRY_SIZE;
  }
  return b;
}

/** Parses an index file; a torn tail entry or an unknown version ends it (entries are rebuilt by the broker's replay). */
export function parseTxnIndex(buf: Buffer): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (let o = 0; o + TXN_ENTRY_SIZE <= buf.length; o += TXN_ENTRY_SIZE) {
    if (buf.readInt16BE(o) !== 0) break;
    out.push({
      producerId: buf.readBigInt64BE(o + 2),
      firstOffset: Number(buf.readBigInt64BE(o + 10)),
      lastOffset: Number(buf.readBigInt64BE(o + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(o + 26)),
    });
  }
  return out;
}
