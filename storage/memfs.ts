// An in-memory FsLike: the backing store of `openStorage({ memory: true })` and of fast tests. Files are
// growable buffers; an fd keeps its file alive after unlink/rename, as on POSIX. "Restarting" a storage
// over the same MemFs without close() models a process crash (the page cache survives).
import { posix } from 'node:path';
import type { FsLike, FsStats, OpenFlags } from './fs.ts';

interface MemFile {
  data: Buffer;
  size: number;
  mtimeMs: number;
}

function enoent(op: string, p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${op} '${p}'`), { code: 'ENOENT' });
}

export class MemFs implements FsLike {
  readonly #files = new Map<string, MemFile>();
  readonly #dirs = new Set<string>(['/']);
  readonly #fds = new Map<number, { file: MemFile; writable: boolean }>();
  #nextFd = 3;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #norm(p: string): string {
    return posix.resolve('/', p);
  }

  #file(fd: number): { file: MemFile; writable: boolean } {
    const f = this.#fds.get(fd);
    if (!f) throw Object.assign(new Error(`EBADF: bad file descriptor ${fd}`), { code: 'EBADF' });
    return f;
  }

  #parentExists(p: string, op: string): void {
    if (!this.#dirs.has(posix.dirname(p))) throw enoent(op, p);
  }

  /** Total bytes held by open or linked files (tests use it to check nothing leaks). */
  get openFds(): number { return this.#fds.size; }

  async open(path: string, flags: OpenFlags): Promise<number> {
    const p = this.#norm(path);
    let file = this.#files.get(p);
    if (!file) {
      if (flags === 'r' || flags === 'r+') throw enoent('open', p);
      this.#parentExists(p, 'open');
      file = { data: Buffer.alloc(0), size: 0, mtimeMs: this.#now() };
      this.#files.set(p, file);
    } else if (flags === 'w+') {
      file.size = 0;
      file.mtimeMs = this.#now();
    }
    const fd = this.#nextFd++;
    this.#fds.set(fd, { file, writable: flags !== 'r' });
    return fd;
  }

  async close(fd: number): Promise<void> {
    this.#file(fd);
    this.#fds.delete(fd);
  }

  async read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const { file } = this.#file(fd);
    const n = Math.max(0, Math.min(length, file.size - position));
    if (n > 0) file.data.copy(buf, offset, position, position + n);
    return n;
  }

  #ensure(file: MemFile, end: number): void {
    if (end <= file.data.length) return;
    const grown = Buffer.alloc(Math.max(end, file.data.length * 2, 4096));
    file.data.copy(grown, 0, 0, file.size);
    file.data = grown;
  }

  async write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const f = this.#file(fd);
    if (!f.writable) throw Object.assign(new Error('EBADF: not open for writing'), { code: 'EBADF' });
    const file = f.file;
    this.#ensure(file, position + length);
    if (position > file.size) file.data.fill(0, file.size, position);
    file.data.set(buf.subarray(offset, offset + length), position);
    file.size = Math.max(file.size, position + length);
    file.mtimeMs = this.#now();
    return length;
  }

  async writev(fd: number, bufs: Uint8Array[], position: number): Promise<number> {
    let n = 0;
    for (const b of bufs) n += await this.write(fd, b, 0, b.length, position + n);
    return n;
  }

  async fdatasync(fd: number): Promise<void> {
    this.#file(fd);
  }

  async ftruncate(fd: number, length: number): Promise<void> {
    const { file } = this.#file(fd);
    this.#ensure(file, length);
    if (length > file.size) file.data.fill(0, file.size, length);
    file.size = length;
  }

  async fstat(fd: number): Promise<FsStats> {
    const { file } = this.#file(fd);
    return { size: file.size, mtimeMs: file.mtimeMs, isDirectory: false };
  }

  async stat(path: string): Promise<FsStats | null> {
    const p = this.#norm(path);
    if (this.#dirs.has(p)) return { size: 0, mtimeMs: 0, isDirectory: true };
    const f = this.#files.get(p);
    return f ? { size: f.size, mtimeMs: f.mtimeMs, isDirectory: false } : null;
  }

  async readdir(path: string): Promise<string[]> {
    const p = this.#norm(path);
    if (!this.#dirs.has(p)) throw enoent('scandir', p);
    const out: string[] = [];
    for (const k of [...this.#dirs, ...this.#files.keys()]) {
      if (k !== p && posix.dirname(k) === p) out.push(posix.basename(k));
    }
    return out.sort();
  }

  async mkdir(path: string): Promise<void> {
    let p = this.#norm(path);
    while (!this.#dirs.has(p)) {
      this.#dirs.add(p);
      p = posix.dirname(p);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.#norm(from);
    const b = this.#norm(to);
    this.#parentExists(b, 'rename');
    const f = this.#files.get(a);
    if (f) {
      this.#files.delete(a);
      this.#files.set(b, f);
      return;
    }
    if (!this.#dirs.has(a)) throw enoent('rename', a);
    const moves: Array<[string, string]> = [];
    const under = (k: string) => k === a || k.startsWith(a + '/');
    for (const d of [...this.#dirs].filter(under)) { this.#dirs.delete(d); moves.push([d, b + d.slice(a.length)]); }
    for (const [, nd] of moves) this.#dirs.add(nd);
    for (const [k, v] of [...this.#files].filter(([k]) => under(k))) {
      this.#files.delete(k);
      this.#files.set(b + k.slice(a.length), v);
    }
  }

  async unlink(path: string): Promise<void> {
    const p = this.#norm(path);
    if (!this.#files.delete(p)) throw enoent('unlink', p);
  }

  async rm(path: string): Promise<void> {
    const p = this.#norm(path);
    const under = (k: string) => k === p || k.startsWith(p + '/');
    for (const d of [...this.#dirs]) if (under(d) && d !== '/') this.#dirs.delete(d);
    for (const k of [...this.#files.keys()]) if (under(k)) this.#files.delete(k);
  }

  async fsyncDir(path: string): Promise<void> {
    if (!this.#dirs.has(this.#norm(path))) throw enoent('open', path);
  }
}
