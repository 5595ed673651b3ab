// A copy of bytes that something keeps for long (a log's batches in memory, a group member's metadata).
// Not `Buffer.from(buf)`: below half of `Buffer.poolSize` (64 KiB on Node 24) that is a slice of Node's shared
// allocation pool, so keeping a 200-byte copy keeps the whole 64 KiB slab alive, one slab per copy kept while
// other allocations move the pool on. The soak's RSS grew ~3 MiB/min from this (the metadata log's batches).

/** `buf`'s bytes in memory of their own, exactly `buf.length` bytes. */
export function ownedCopy(buf: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(buf.length);
  out.set(buf);
  return out;
}
