// MemFs keeps a per-directory index: readdir, rename and rm must agree with the files and directories.
import t from 'tap';
import { MemFs } from './memfs.ts';

t.test('readdir, rename (file and directory), unlink, rm stay consistent', async (t) => {
  const fs = new MemFs();
  await fs.mkdir('/d/a/b');
  await fs.close(await fs.open('/d/a/x.log', 'w+'));
  await fs.close(await fs.open('/d/a/b/y.log', 'w+'));
  await fs.close(await fs.open('/d/top', 'w+'));
  t.same(await fs.readdir('/d'), ['a', 'top']);
  t.same(await fs.readdir('/d/a'), ['b', 'x.log']);
  await fs.rename('/d/a/x.log', '/d/a/z.log');
  t.same(await fs.readdir('/d/a'), ['b', 'z.log'], 'file renamed in its directory');
  await fs.rename('/d/a', '/d/c');
  t.same(await fs.readdir('/d'), ['c', 'top'], 'directory renamed');
  t.same(await fs.readdir('/d/c/b'), ['y.log'], 'with its subtree');
  t.ok(await fs.stat('/d/c/b/y.log'));
  t.equal(await fs.stat('/d/a/b/y.log'), null);
  await t.rejects(fs.readdir('/d/a'), { code: 'ENOENT' });
  await fs.unlink('/d/top');
  t.same(await fs.readdir('/d'), ['c']);
  await fs.rm('/d/c');
  t.same(await fs.readdir('/d'), [], 'rm removes the subtree');
  t.equal(await fs.stat('/d/c/z.log'), null);
  await fs.mkdir('/d/c');
  t.same(await fs.readdir('/d/c'), [], 'a re-created directory starts empty');
  await fs.close(await fs.open('/d/f', 'w+'));
  await fs.rm('/d/f');
  t.same(await fs.readdir('/d'), ['c'], 'rm of a file');
});
