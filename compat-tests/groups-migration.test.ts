// Online migration between the classic and the KIP-848 consumer protocol (group.consumer.migration.policy,
// Kafka 4.x default bidirectional), with unmodified clients in one group: a kafkajs consumer (classic
// JoinGroup/SyncGroup) owns every partition; a node-rdkafka consumer with group.protocol=consumer joins —
// the group becomes a consumer group with a classic member inside, the partitions are split between them,
// every record is consumed; the node-rdkafka consumer leaves — the group goes back to classic and kafkajs
// takes every partition again.
import t from 'tap';
import { RawClient } from '../broker/testing/raw-client.ts';
import { startGregor } from './support/gregor-process.ts';
import { Rdkafka, RdProducer, kafkajs, makeRecords, rdConnect, rdDisconnect, rdProduceAll, waitFor } from './support/clients.ts';

const TOPIC = 'migration-orders';
const GROUP = 'migration-group';
const PARTITIONS = 6;
const CONSUMER_GROUP_DESCRIBE = 69;
const LIST_GROUPS = 16;

const g = await startGregor({
  overrides: {
    'num.partitions': String(PARTITIONS), 'group.initial.rebalance.delay.ms': '0',
    'group.consumer.heartbeat.interval.ms': '500', 'group.consumer.min.heartbeat.interval.ms': '500', 'group.consumer.session.timeout.ms': '6000', 'group.consumer.min.session.timeout.ms': '6000',
  },
});
t.teardown(() => g.stop());

t.test('kafkajs (classic) and node-rdkafka (group.protocol=consumer) in one group: upgrade, share, downgrade', async (t) => {
  const seen = new Map<string, string>(); // partition:offset → who
  const producer = new RdProducer(g.bootstrap);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  let n = 0;
  const produce = async (count: number) => {
    await rdProduceAll(producer, TOPIC, makeRecords(count, { source: `m${n}`, keys: 60 }));
    n += count;
  };
  await produce(60); // creates the topic

  const kjsOwned = new Set<number>();
  const kafka = kafkajs(g.bootstrap, 'compat-migration');
  const classic = kafka.consumer({ groupId: GROUP, heartbeatInterval: 500, sessionTimeout: 10000, rebalanceTimeout: 10000, maxWaitTimeInMs: 100 });
  classic.on(classic.events.GROUP_JOIN, (e: any) => {
    kjsOwned.clear();
    for (const p of e.payload.memberAssignment[TOPIC] ?? []) kjsOwned.add(p);
  });
  await classic.connect();
  t.teardown(() => classic.disconnect());
  await classic.subscribe({ topics: [TOPIC], fromBeginning: true });
  await classic.run({ eachMessage: async ({ partition, message }) => { seen.set(`${partition}:${message.offset}`, 'kafkajs'); } });
  await waitFor(`kafkajs owns all ${PARTITIONS} partitions (${[...kjsOwned]})`, () => kjsOwned.size === PARTITIONS, 30000);
  await waitFor(`kafkajs consumed 60 (has ${seen.size})`, () => seen.size >= 60, 30000);

  const rdOwned = new Set<number>();
  const modern = new Rdkafka.KafkaConsumer({
    'metadata.broker.list': g.bootstrap, 'group.id': GROUP, 'group.protocol': 'consumer',
    'enable.auto.commit': true, 'auto.commit.interval.ms': 100, 'fetch.wait.max.ms': 100, rebalance_cb: true,
  }, { 'auto.offset.reset': 'earliest' });
  modern.on('data', (m: any) => seen.set(`${m.partition}:${m.offset}`, 'rdkafka'));
  modern.on('rebalance', (err: any, a: any[]) => {
    if (err.code === Rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) { for (const x of a) rdOwned.add(x.partition); modern.incrementalAssign(a); }
    else { for (const x of a) rdOwned.delete(x.partition); modern.incrementalUnassign(a); }
  });
  await rdConnect(modern);
  modern.subscribe([TOPIC]);
  modern.consume();
  let modernConnected = true;
  t.teardown(() => (modernConnected ? rdDisconnect(modern) : undefined));

  await waitFor(`the partitions are split (kafkajs ${[...kjsOwned]}, rdkafka ${[...rdOwned]})`,
    () => rdOwned.size > 0 && kjsOwned.size > 0 && rdOwned.size + kjsOwned.size === PARTITIONS && [...rdOwned].every((p) => !kjsOwned.has(p)), 60000);
  t.pass(`split: kafkajs ${[...kjsOwned].sort()}, node-rdkafka ${[...rdOwned].sort()}`);

  const c = await RawClient.connect(g.port);
  t.teardown(() => c.close());
  const describe = await c.request(CONSUMER_GROUP_DESCRIBE, 1, { groupIds: [GROUP], includeAuthorizedOperations: false });
  const grp = describe.groups[0];
  t.equal(grp.errorCode, 0, 'the group is a consumer group now');
  t.same(grp.members.map((m: any) => m.memberType).sort(), [0, 1], 'one classic member (0) and one consumer member (1)');
  const listed = await c.request(LIST_GROUPS, 5, { statesFilter: [], typesFilter: [] });
  t.equal(listed.groups.find((x: any) => x.groupId === GROUP)?.groupType, 'consumer');

  await produce(240);
  await waitFor(`300 records consumed (has ${seen.size})`, () => seen.size >= 300, 60000);
  const by = (who: string) => [...seen.values()].filter((w) => w === who).length;
  t.ok(by('rdkafka') > 0, `node-rdkafka consumed ${by('rdkafka')}`);

  // The consumer-protocol member leaves: the group goes back to classic with kafkajs alone.
  await rdDisconnect(modern);
  modernConnected = false;
  await waitFor(`kafkajs owns all partitions again (${[...kjsOwned]})`, () => kjsOwned.size === PARTITIONS, 60000);
  const after = await c.request(LIST_GROUPS, 5, { statesFilter: [], typesFilter: [] });
  t.equal(after.groups.find((x: any) => x.groupId === GROUP)?.groupType, 'classic', 'downgraded to a classic group');
  await produce(60);
  await waitFor(`360 records consumed (has ${seen.size})`, () => seen.size >= 360, 60000);
  t.equal(seen.size, 360, 'every record consumed');
});
