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
  /** Directory → names of its entries, so readdir/rm/rename cost the directory's size, not the whole tree's. */
  readonly #children = new Map<string, Set<string>>([['/', new Set()]]);
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

  #link(p: string): void { this.#children.get(posix.dirname(p))?.add(posix.basename(p)); }
  #unlink(p: string): void { this.#children.get(posix.dirname(p))?.delete(posix.basename(p)); }

  /** Every directory and file at or below the directory `p` (p first). */
  #subtree(p: string): { dirs: string[]; files: string[] } {
    const dirs: string[] = [];
    const files: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const name of this.#children.get(d) ?? []) {
        const k = d === '/' ? `/${name}` : `${d}/${name}`;
        if (this.#dirs.has(k)) walk(k);
        else files.push(k);
      }
    };
    walk(p);
    return { dirs, files };
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
      this.#link(p);
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
    return [...this.#children.get(p)!].sort();
  }

  async mkdir(path: string): Promise<void> {
    const missing: string[] = [];
    for (let p = this.#norm(path); !this.#dirs.has(p); p = posix.dirname(p)) missing.push(p);
    for (const d of missing.reverse()) {
      this.#dirs.add(d);
      this.#children.set(d, new Set());
      this.#link(d);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.#norm(from);
    const b = this.#norm(to);
    this.#parentExists(b, 'rename');
    const f = this.#files.get(a);
    if (f) {
      this.#files.delete(a);
      this.#unlink(a);
      this.#files.set(b, f);
      this.#link(b);
      return;
    }
    if (!this.#dirs.has(a)) throw enoent('rename', a);
    const { dirs, files } = this.#subtree(a);
    const moved = (k: string) => b + k.slice(a.length);
    const kids = dirs.map((d) => this.#children.get(d)!);
    for (const d of dirs) { this.#dirs.delete(d); this.#children.delete(d); }
    dirs.forEach((d, i) => { this.#dirs.add(moved(d)); this.#children.set(moved(d), kids[i]!); });
    for (const k of files) {
      const v = this.#files.get(k)!;
      this.#files.delete(k);
      this.#files.set(moved(k), v);
    }
    this.#unlink(a);
    this.#link(b);
  }

  async unlink(path: string): Promise<void> {
    const p = this.#norm(path);
    if (!this.#files.delete(p)) throw enoent('unlink', p);
    this.#unlink(p);
  }

  async rm(path: string): Promise<void> {
    const p = this.#norm(path);
    if (this.#files.delete(p)) {
      this.#unlink(p);
      return;
    }
    if (!this.#dirs.has(p)) return;
    const { dirs, files } = this.#subtree(p);
    for (const k of files) this.#files.delete(k);
    for (const d of dirs) {
      if (d === '/') { this.#children.get('/')!.clear(); continue; }
      this.#dirs.delete(d);
      this.#children.delete(d);
    }
    if (p !== '/') this.#unlink(p);
  }

  async fsyncDir(path: string): Promise<void> {
    if (!this.#dirs.has(this.#norm(path))) throw enoent('open', path);
  }
}
