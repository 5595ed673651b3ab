// A fault-injecting FsLike wrapper for tests: make the next (or every) call of an operation fail with a
// given errno, optionally after writing part of the data (a torn write, as ENOSPC mid-write leaves).
import type { FsLike, FsStats, OpenFlags } from './fs.ts';

export type FsOp = 'open' | 'read' | 'write' | 'fdatasync' | 'ftruncate' | 'rename' | 'unlink' | 'mkdir' | 'fsyncDir';

interface Fault {
  op: FsOp;
  code: string;
  /** For write/writev: bytes written before failing. */
  partialBytes: number;
  /** Remaining calls to fail; Infinity = until heal(). */
  times: number;
  /** Only calls whose path contains this string (fd operations: the path the fd was opened with). */
  pathIncludes?: string;
}

export function errnoError(code: string, op: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${op}`), { code });
}

export class FaultyFs implements FsLike {
  readonly inner: FsLike;
  #faults: Fault[] = [];
  /** Count of calls per op, for assertions. */
  readonly calls = new Map<string, number>();
  /** Path each open fd was opened with, so fd operations can be targeted by path. */
  readonly #paths = new Map<number, string>();

  constructor(inner: FsLike) {
    this.inner = inner;
  }

  /** The next `times` calls of `op` fail with `code` (default EIO). Returns a function that withdraws this fault. */
  failNext(op: FsOp, opts: { code?: string; partialBytes?: number; times?: number; pathIncludes?: string } = {}): () => void {
    const f: Fault = { op, code: opts.code ?? 'EIO', partialBytes: opts.partialBytes ?? 0, times: opts.times ?? 1, pathIncludes: opts.pathIncludes };
    this.#faults.push(f);
    return () => { this.#faults = this.#faults.filter((x) => x !== f); };
  }

  failAlways(op: FsOp, code = 'EIO'): void {
    this.failNext(op, { code, times: Infinity });
  }

  heal(): void {
    this.#faults = [];
  }

  #take(op: FsOp, path?: string): Fault | undefined {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const i = this.#faults.findIndex((f) => f.op === op && (f.pathIncludes === undefined || (path?.includes(f.pathIncludes) ?? false)));
    if (i < 0) return undefined;
    const f = this.#faults[i];
    if (--f.times <= 0) this.#faults.splice(i, 1);
    return f;
  }

  async open(path: string, flags: OpenFlags): Promise<number> {
    const f = this.#take('open', path);
    if (f) throw errnoError(f.code, `open ${path}`);
    return this.inner.open(path, flags).then((fd) => {
      this.#paths.set(fd, path);
      return fd;
    });
  }
  close(fd: number): Promise<void> {
    this.#paths.delete(fd);
    return this.inner.close(fd);
  }
  async read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const f = this.#take('read', this.#paths.get(fd));
    if (f) throw errnoError(f.code, 'read');
    return this.inner.read(fd, buf, offset, length, position);
  }
  async write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const f = this.#take('write', this.#paths.get(fd));
    if (f) {
      if (f.partialBytes > 0) await this.inner.write(fd, buf, offset, Math.min(length, f.partialBytes), position);
      throw errnoError(f.code, 'write');
    }
    return this.inner.write(fd, buf, offset, length, position);
  }
  async writev(fd: number, bufs: Uint8Array[], position: number): Promise<number> {
    const f = this.#take('write', this.#paths.get(fd));
    if (f) {
      let left = f.partialBytes;
      let pos = position;
      for (const b of bufs) {
        if (left <= 0) break;
        const n = Math.min(left, b.length);
        await this.inner.write(fd, b, 0, n, pos);
        pos += n;
        left -= n;
      }
      throw errnoError(f.code, 'writev');
    }
    return this.inner.writev(fd, bufs, position);
  }
  async fdatasync(fd: number): Promise<void> {
    const f = this.#take('fdatasync', this.#paths.get(fd));
    if (f) throw errnoError(f.code, 'fdatasync');
    return this.inner.fdatasync(fd);
  }
  async ftruncate(fd: number, length: number): Promise<void> {
    const f = this.#take('ftruncate', this.#paths.get(fd));
    if (f) throw errnoError(f.code, 'ftruncate');
    return this.inner.ftruncate(fd, length);
  }
  fstat(fd: number): Promise<FsStats> { return this.inner.fstat(fd); }
  stat(path: string): Promise<FsStats | null> { return this.inner.stat(path); }
  readdir(path: string): Promise<string[]> { return this.inner.readdir(path); }
  async mkdir(path: string): Promise<void> {
    const f = this.#take('mkdir', path);
    if (f) throw errnoError(f.code, `mkdir ${path}`);
    return this.inner.mkdir(path);
  }
  async rename(from: string, to: string): Promise<void> {
    const f = this.#take('rename', to);
    if (f) throw errnoError(f.code, `rename ${to}`);
    return this.inner.rename(from, to);
  }
  async unlink(path: string): Promise<void> {
    const f = this.#take('unlink', path);
    if (f) throw errnoError(f.code, `unlink ${path}`);
    return this.inner.unlink(path);
  }
  rm(path: string): Promise<void> { return this.inner.rm(path); }
  async fsyncDir(path: string): Promise<void> {
    const f = this.#take('fsyncDir', path);
    if (f) throw errnoError(f.code, `fsyncDir ${path}`);
    return this.inner.fsyncDir(path);
  }
}
