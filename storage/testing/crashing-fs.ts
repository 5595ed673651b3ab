// A MemFs view that stops after a given number of mutating calls, modelling a process crash at that step
// (the page cache survives: MemFs keeps every completed write). Tests count the calls of an operation once,
// then crash after each of them in turn.
import type { FsLike, OpenFlags } from '../fs.ts';
import type { MemFs } from '../memfs.ts';

/** A MemFs view that "crashes" after `limit` mutating calls: every later call fails and changes nothing. */
export class CrashingFs implements FsLike {
  readonly inner: MemFs;
  limit: number;
  count = 0;
  constructor(inner: MemFs, limit: number) { this.inner = inner; this.limit = limit; }
  #step(): void {
    if (this.count >= this.limit) throw Object.assign(new Error('crashed'), { code: 'EIO' });
    this.count++;
  }
  #check(): void { if (this.count >= this.limit) throw Object.assign(new Error('crashed'), { code: 'EIO' }); }
  async open(p: string, f: OpenFlags) { if (f === 'w+') this.#step(); else this.#check(); return this.inner.open(p, f); }
  async close(fd: number) { return this.inner.close(fd); }
  async read(fd: number, b: Uint8Array, o: number, l: number, p: number) { this.#check(); return this.inner.read(fd, b, o, l, p); }
  async write(fd: number, b: Uint8Array, o: number, l: number, p: number) { this.#step(); return this.inner.write(fd, b, o, l, p); }
  async writev(fd: number, b: Uint8Array[], p: number) { this.#step(); return this.inner.writev(fd, b, p); }
  async fdatasync(fd: number) { this.#check(); return this.inner.fdatasync(fd); }
  async ftruncate(fd: number, l: number) { this.#step(); return this.inner.ftruncate(fd, l); }
  async fstat(fd: number) { return this.inner.fstat(fd); }
  async stat(p: string) { return this.inner.stat(p); }
  async readdir(p: string) { return this.inner.readdir(p); }
  async mkdir(p: string) { this.#step(); return this.inner.mkdir(p); }
  async rename(a: string, b: string) { this.#step(); return this.inner.rename(a, b); }
  async unlink(p: string) { this.#step(); return this.inner.unlink(p); }
  async rm(p: string) { this.#step(); return this.inner.rm(p); }
  async fsyncDir(p: string) { this.#check(); return this.inner.fsyncDir(p); }
}
