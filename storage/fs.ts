// The file-system calls storage uses, as an injectable interface: the real one (node:fs, callback API,
// so all I/O runs on libuv's thread pool and never blocks the event loop), an in-memory one (memfs.ts)
// and a fault-injecting wrapper (faulty-fs.ts).
import * as nodeFsMod from 'node:fs';

export interface FsStats {
  size: number;
  mtimeMs: number;
  isDirectory: boolean;
}

export type OpenFlags = 'r' | 'r+' | 'w+';

export interface FsLike {
  open(path: string, flags: OpenFlags): Promise<number>;
  close(fd: number): Promise<void>;
  /** Positional read; returns bytes read (short at end of file). */
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Positional write; may write fewer bytes than asked. */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Positional gather write; may write fewer bytes than asked. */
  writev(fd: number, bufs: Uint8Array[], position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  fstat(fd: number): Promise<FsStats>;
  /** null when the path does not exist. */
  stat(path: string): Promise<FsStats | null>;
  readdir(path: string): Promise<string[]>;
  /** Recursive; no error when it exists. */
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Recursive and forced (no error when missing). */
  rm(path: string): Promise<void>;
  /** Makes a directory's entries (creates, renames) durable. */
  fsyncDir(path: string): Promise<void>;
}

function cb<T>(fn: (done: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

const toStats = (s: nodeFsMod.Stats): FsStats => ({ size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory() });

export const nodeFs: FsLike = {
  open: (p, flags) => cb<number>((d) => nodeFsMod.open(p, flags, 0o644, d)),
  close: (fd) => cb<void>((d) => nodeFsMod.close(fd, (e) => d(e, undefined))),
  read: (fd, buf, off, len, pos) => cb<number>((d) => nodeFsMod.read(fd, buf, off, len, pos, d)),
  write: (fd, buf, off, len, pos) => cb<number>((d) => nodeFsMod.write(fd, buf, off, len, pos, d)),
  writev: (fd, bufs, pos) => cb<number>((d) => nodeFsMod.writev(fd, bufs, pos, d)),
  fdatasync: (fd) => cb<void>((d) => nodeFsMod.fdatasync(fd, (e) => d(e, undefined))),
  ftruncate: (fd, len) => cb<void>((d) => nodeFsMod.ftruncate(fd, len, (e) => d(e, undefined))),
  fstat: (fd) => cb<nodeFsMod.Stats>((d) => nodeFsMod.fstat(fd, d)).then(toStats),
  stat: (p) => cb<nodeFsMod.Stats>((d) => nodeFsMod.stat(p, d)).then(toStats, (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  }),
  readdir: (p) => cb<string[]>((d) => nodeFsMod.readdir(p, d)),
  mkdir: (p) => cb<void>((d) => nodeFsMod.mkdir(p, { recursive: true }, (e) => d(e, undefined))),
  rename: (a, b) => cb<void>((d) => nodeFsMod.rename(a, b, (e) => d(e, undefined))),
  unlink: (p) => cb<void>((d) => nodeFsMod.unlink(p, (e) => d(e, undefined))),
  rm: (p) => cb<void>((d) => nodeFsMod.rm(p, { recursive: true, force: true }, (e) => d(e, undefined))),
  fsyncDir: async (p) => {
    const fd = await cb<number>((d) => nodeFsMod.open(p, 'r', d));
    try {
      await cb<void>((d) => nodeFsMod.fsync(fd, (e) => d(e, undefined)));
    } finally {
      await cb<void>((d) => nodeFsMod.close(fd, (e) => d(e, undefined)));
    }
  },
};

// Helpers over FsLike. Short writes are retried; an error mid-way rejects (the caller truncates back).

export async function writeFully(fs: FsLike, fd: number, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await fs.write(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    done += n;
  }
}

/** One writev for all buffers; falls back to per-buffer writes only for the rest of a short write. */
export async function writevFully(fs: FsLike, fd: number, bufs: Uint8Array[], position: number): Promise<void> {
  if (bufs.length === 1) return writeFully(fs, fd, bufs[0], position);
  let total = 0;
  for (const b of bufs) total += b.length;
  let n = await fs.writev(fd, bufs, position);
  if (n === total) return;
  if (n <= 0) throw Object.assign(new Error('writev returned 0 bytes'), { code: 'EIO' });
  let pos = position + n;
  for (const b of bufs) {
    if (n >= b.length) { n -= b.length; continue; }
    await writeFully(fs, fd, n > 0 ? b.subarray(n) : b, pos);
    pos += b.length - n;
    n = 0;
  }
}

export async function readFully(fs: FsLike, fd: number, buf: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const n = await fs.read(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Whole small file, or null when missing. */
export async function readWholeFile(fs: FsLike, path: string): Promise<Buffer | null> {
  let fd: number;
  try {
    fd = await fs.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const { size } = await fs.fstat(fd);
    const buf = Buffer.allocUnsafe(size);
    const n = await readFully(fs, fd, buf, 0);
    return buf.subarray(0, n);
  } finally {
    await fs.close(fd);
  }
}

/** Write to a temp file, fsync, rename over, fsync the directory: readers see the old or the new file, never a mix. */
export async function writeFileAtomic(fs: FsLike, path: string, data: Uint8Array): Promise<void> {
  const tmp = path + '.tmp';
  const fd = await fs.open(tmp, 'w+');
  try {
    await writeFully(fs, fd, data, 0);
    await fs.fdatasync(fd);
  } finally {
    await fs.close(fd);
  }
  await fs.rename(tmp, path);
  await fs.fsyncDir(path.slice(0, Math.max(1, path.lastIndexOf('/'))));
}
