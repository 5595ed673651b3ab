// gregor topics create|list|describe|alter|delete, in the manner of kafka-topics.sh.
import { API, check, type Client, KafkaError } from './client.ts';
import { COMMON_HELP, int, type Io, list, makeClient, OperationError, parse, parseConfigList, str, UsageError } from './common.ts';
import { alterConfigs, describeConfigs } from './configs.ts';

export const HELP = `usage: gregor topics list [--exclude-internal] [options]
       gregor topics create --topic NAME [--partitions N] [--replication-factor N] [--config k=v]... [--if-not-exists]
       gregor topics describe [--topic NAME] [--exclude-internal] [options]
       gregor topics alter --topic NAME [--partitions N] [--config k=v]... [--delete-config k]...
       gregor topics delete --topic NAME [--if-exists] [options]
Without --partitions / --replication-factor, create takes the broker's num.partitions / default.replication.factor.
alter --partitions only grows a topic (CreatePartitions); --config / --delete-config change its overrides
(IncrementalAlterConfigs).
  --topic NAME            the topic (create, alter, delete: repeatable)
  --partitions N          partition count
  --replication-factor N  replicas per partition
  --config k=v            a topic config (repeatable; also k=v,k2=v2)
  --delete-config k       alter: remove an override (repeatable)
  --if-not-exists         create: an existing topic is not an error
  --if-exists             delete: a missing topic is not an error
  --exclude-internal      list/describe: leave out internal topics
${COMMON_HELP}`;

export async function run(args: string[], io: Io): Promise<number> {
  const p = parse(args, {
    topic: { type: 'string', multiple: true }, partitions: { type: 'string' }, 'replication-factor': { type: 'string' },
    config: { type: 'string', multiple: true }, 'delete-config': { type: 'string', multiple: true },
    'if-not-exists': { type: 'boolean' }, 'if-exists': { type: 'boolean' }, 'exclude-internal': { type: 'boolean' },
  });
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  const [sub, ...rest] = p.positionals;
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const commands: Record<string, (c: Client) => Promise<void>> = {
    list: (c) => listTopics(c, io, !!p.values['exclude-internal']),
    create: (c) => create(c, io),
    describe: (c) => describe(c, io),
    alter: (c) => alter(c, io),
    delete: (c) => del(c, io),
  };
  if (!sub || !commands[sub]) throw new UsageError(sub ? `unknown topics command ${sub}` : 'topics needs a command: list, create, describe, alter or delete');
  const topics = list(p, 'topic');
  if (sub !== 'list' && sub !== 'describe' && topics.length === 0) throw new UsageError(`topics ${sub} needs --topic`);
  const partitions = int(p, 'partitions', 1);
  const rf = int(p, 'replication-factor', 1);
  const configs = list(p, 'config').flatMap((s) => parseConfigList(s, '--config'));
  const { client } = makeClient(p, io);
  try {
    await commands[sub]!(client);
    return 0;
  } finally {
    await client.close();
  }

  async function create(client: Client, io: Io): Promise<void> {
    const res = await client.retry('CreateTopics', async () => {
      const c = await client.any();
      return c.request(API.CreateTopics, {
        topics: topics.map((name) => ({ name, numPartitions: partitions ?? -1, replicationFactor: rf ?? -1, assignments: [], configs: configs.map(([k, v]) => ({ name: k, value: v })) })),
        timeoutMs: client.opts.requestTimeoutMs, validateOnly: false,
      });
    });
    let failed = 0;
    for (const t of res.topics) {
      if (t.errorCode === 36 && p.values['if-not-exists']) continue; // TOPIC_ALREADY_EXISTS
      if (t.errorCode !== 0) { io.err(`${new KafkaError(t.errorCode, `Error while creating topic ${t.name}`, t.errorMessage).message}\n`); failed++; }
      else io.out(`Created topic ${t.name}.\n`);
    }
    if (failed) throw new OperationError(`${failed} of ${res.topics.length} topics not created`);
  }

  async function describe(client: Client, io: Io): Promise<void> {
    const all = topics.length === 0;
    const { topics: infos } = await client.retry('Metadata', () => client.metadata(all ? null : topics));
    let failed = 0;
    for (const t of infos.sort((a, b) => a.name.localeCompare(b.name))) {
      if (all && t.internal && p.values['exclude-internal']) continue;
      if (t.errorCode !== 0) { io.err(`${new KafkaError(t.errorCode, `topic ${t.name}`).message}\n`); failed++; continue; }
      const overrides = (await describeConfigs(client, 2, t.name)).filter((e) => e.source === 1);
      const rf = t.partitions[0]?.replicas.length ?? 0;
      io.out(`Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${overrides.map((e) => `${e.name}=${e.sensitive ? '(sensitive)' : e.value}`).join(',')}\n`);
      for (const part of t.partitions) {
        io.out(`\tTopic: ${t.name}\tPartition: ${part.partition}\tLeader: ${part.leader < 0 ? 'none' : part.leader}\tReplicas: ${part.replicas.join(',')}\tIsr: ${part.isr.join(',')}${part.offline.length ? `\tOffline: ${part.offline.join(',')}` : ''}\n`);
      }
    }
    if (failed) throw new OperationError(`${failed} topics could not be described`);
  }

  async function alter(client: Client, io: Io): Promise<void> {
    const dels = list(p, 'delete-config').flatMap((s) => s.split(',').map((k) => k.trim()).filter(Boolean));
    if (partitions === undefined && configs.length === 0 && dels.length === 0) throw new UsageError('topics alter needs --partitions, --config or --delete-config');
    if (rf !== undefined) throw new UsageError('topics alter cannot change --replication-factor');
    if (partitions !== undefined) {
      const res = await client.retry('CreatePartitions', async () => (await client.any()).request(API.CreatePartitions, {
        topics: topics.map((name) => ({ name, count: partitions, assignments: null })), timeoutMs: client.opts.requestTimeoutMs, validateOnly: false,
      }));
      for (const r of res.results) check(r.errorCode, `Error while altering partitions of ${r.name}`, r.errorMessage);
    }
    if (configs.length || dels.length) for (const name of topics) await alterConfigs(client, 2, name, configs, dels);
    for (const name of topics) io.out(`Altered topic ${name}.\n`);
  }

  async function del(client: Client, io: Io): Promise<void> {
    const res = await client.retry('DeleteTopics', async () => {
      const c = await client.any();
      return c.request(API.DeleteTopics, c.version(API.DeleteTopics) >= 6
        ? { topics: topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })), timeoutMs: client.opts.requestTimeoutMs }
        : { topicNames: topics, timeoutMs: client.opts.requestTimeoutMs });
    });
    let failed = 0;
    for (const r of res.responses) {
      if (r.errorCode === 3 && p.values['if-exists']) continue;
      if (r.errorCode !== 0) { io.err(`${new KafkaError(r.errorCode, `Error while deleting topic ${r.name}`, r.errorMessage).message}\n`); failed++; }
      else io.out(`Deleted topic ${r.name}.\n`);
    }
    if (failed) throw new OperationError(`${failed} of ${res.responses.length} topics not deleted`);
  }
}

async function listTopics(client: Client, io: Io, excludeInternal: boolean): Promise<void> {
  const { topics } = await client.retry('Metadata', () => client.metadata(null));
  for (const t of topics.filter((t) => !(excludeInternal && t.internal)).map((t) => t.name).sort()) io.out(`${t}\n`);
}
