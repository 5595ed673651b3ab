// Topic creation and growth are all-or-nothing: a file-system failure part-way leaves no partition open,
// no directory behind and no trace in the topic metadata.
import t from 'tap';
import { FaultyFs } from './faulty-fs.ts';
import { MemFs } from './memfs.ts';
import { openStorage, TOPICS_FILE } from './storage.ts';
import { kv } from './testing/records.ts';

async function setup(t: any) {
  const mem = new MemFs();
  const fs = new FaultyFs(mem);
  const s = await openStorage({ memory: true, fs, dataDir: '/d', retentionCheckIntervalMs: 0, cleaner: { enabled: false } });
  t.teardown(() => s.close());
  await s.settle();
  return { mem, fs, s };
}

const partitionDirs = async (mem: MemFs, topic: string) => (await mem.readdir('/d')).filter((e) => e.startsWith(`${topic}-`)).sort();
const listed = async (mem: MemFs) => {
  const fd = await mem.open(`/d/${TOPICS_FILE}`, 'r');
  const st = await mem.fstat(fd);
  const buf = Buffer.alloc(st.size);
  await mem.read(fd, buf, 0, st.size, 0);
  await mem.close(fd);
  return (JSON.parse(buf.toString()) as { topics: Array<{ name: string; partitions: number }> }).topics.map((x) => `${x.name}:${x.partitions}`);
};

t.test('EMFILE opening the fourth partition: nothing opened stays open, no directory stays, topic not created', async (t) => {
  const { mem, fs, s } = await setup(t);
  const fdsBefore = mem.openFds;
  fs.failNext('open', { code: 'EMFILE', pathIncludes: '/t-3/' });
  await t.rejects(s.createTopic('t', { partitions: 6, topicId: 'AAAAAAAAAAAAAAAAAAAAAB' }), { code: 'EMFILE' });
  t.equal(s.getTopic('t'), undefined);
  t.equal(s.partition('t', 0), undefined);
  t.equal(mem.openFds, fdsBefore, 'every descriptor opened for the topic is closed');
  t.same(await partitionDirs(mem, 't'), [], 'no partition directory is left');
  await s.settle();
  // The same name can be created afterwards.
  await s.createTopic('t', { partitions: 2, topicId: 'AAAAAAAAAAAAAAAAAAAAAC' });
  t.same(await partitionDirs(mem, 't'), ['t-0', 't-1']);
  t.same(await listed(mem), ['t:2']);
});

t.test('ENOSPC writing the topics file: the topic is rolled back', async (t) => {
  const { mem, fs, s } = await setup(t);
  const fdsBefore = mem.openFds;
  fs.failNext('rename', { code: 'ENOSPC', pathIncludes: TOPICS_FILE });
  await t.rejects(s.createTopic('u', { partitions: 3, topicId: 'AAAAAAAAAAAAAAAAAAAAAB' }), { code: 'ENOSPC' });
  t.equal(s.getTopic('u'), undefined);
  t.equal(s.topics().length, 0);
  t.equal(mem.openFds, fdsBefore);
  t.same(await partitionDirs(mem, 'u'), []);
});

t.test('growth failing part-way keeps the old partitions and data, removes the new ones', async (t) => {
  const { mem, fs, s } = await setup(t);
  await s.createTopic('g', { partitions: 2, topicId: 'AAAAAAAAAAAAAAAAAAAAAB' });
  await s.partition('g', 1)!.append(kv('k', 'v'));
  const fdsBefore = mem.openFds;
  fs.failNext('mkdir', { code: 'EMFILE', pathIncludes: '/g-4' });
  await t.rejects(s.addPartitions('g', 6), { code: 'EMFILE' });
  t.equal(s.getTopic('g')!.partitions, 2);
  t.equal(s.partition('g', 2), undefined);
  t.equal(mem.openFds, fdsBefore);
  t.same(await partitionDirs(mem, 'g'), ['g-0', 'g-1']);
  t.equal(s.partition('g', 1)!.logEndOffset, 1, 'existing data untouched');

  fs.failNext('rename', { code: 'ENOSPC', pathIncludes: TOPICS_FILE });
  await t.rejects(s.addPartitions('g', 4), { code: 'ENOSPC' });
  t.equal(s.getTopic('g')!.partitions, 2);
  t.equal(s.partition('g', 2), undefined);
  t.same(await partitionDirs(mem, 'g'), ['g-0', 'g-1']);
  t.same(await listed(mem), ['g:2']);

  await s.addPartitions('g', 4);
  t.same(await partitionDirs(mem, 'g'), ['g-0', 'g-1', 'g-2', 'g-3']);
  t.same(await listed(mem), ['g:4']);
});

/** MemFs with hooks: count directory syncs, hold `open` of matching paths until released. */
function hookedFs(mem: MemFs, hold?: { pathIncludes: string; until: Promise<void> }) {
  const dirSyncs: string[] = [];
  const fs = new Proxy(mem, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== 'function') return v;
      if (prop === 'fsyncDir') return (p: string) => { dirSyncs.push(p); return v.call(target, p); };
      if (prop === 'open' && hold) return async (p: string, flags: string) => { if (p.includes(hold.pathIncludes)) await hold.until; return v.call(target, p, flags); };
      return v.bind(target);
    },
  });
  return { fs, dirSyncs };
}

t.test('a new partition costs no directory sync (an empty log has nothing to lose; the metadata log is durable)', async (t) => {
  const { fs, dirSyncs } = hookedFs(new MemFs());
  const s = await openStorage({ memory: true, fs, dataDir: '/d', retentionCheckIntervalMs: 0, cleaner: { enabled: false }, topics: [] });
  t.teardown(() => s.close());
  await s.createTopic('t', { partitions: 8, topicId: 'AAAAAAAAAAAAAAAAAAAAAB' });
  t.same(dirSyncs.filter((p) => p.startsWith('/d/t-')), [], 'no fsync of a new partition directory');
});

t.test('with the topic list kept outside (metadata log), creations of different topics do not wait for each other', async (t) => {
  let release!: () => void;
  const { fs } = hookedFs(new MemFs(), { pathIncludes: '/slow-0/', until: new Promise<void>((r) => { release = r; }) });
  const s = await openStorage({ memory: true, fs, dataDir: '/d', retentionCheckIntervalMs: 0, cleaner: { enabled: false }, topics: [] });
  t.teardown(() => s.close());
  const slow = s.createTopic('slow', { partitions: 1, topicId: 'AAAAAAAAAAAAAAAAAAAAAB' });
  await s.createTopic('fast', { partitions: 3, topicId: 'AAAAAAAAAAAAAAAAAAAAAC' });
  t.equal(s.getTopic('slow'), undefined, 'the held creation is still under way');
  t.equal(s.getTopic('fast')?.partitions, 3, 'another topic was created meanwhile');
  release();
  await slow;
  t.equal(s.getTopic('slow')?.partitions, 1);
});
