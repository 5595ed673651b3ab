// gregor groups list|describe|reset-offsets|delete, in the manner of kafka-consumer-groups.sh.
import { API, check, type Client, KafkaError, type TopicInfo } from './client.ts';
import { COMMON_HELP, type Io, list, makeClient, OperationError, parse, str, table, UsageError } from './common.ts';
import { parseTime } from './consume.ts';
import { decodeAssignment } from './group-member.ts';
import { EARLIEST, fetchCommitted, LATEST, listOffsets, commitOffsets, type Offsets, setOffset } from './offsets.ts';

export const HELP = `usage: gregor groups list [options]
       gregor groups describe (--group ID... | --all-groups) [--members] [options]
       gregor groups reset-offsets --group ID (--topic T[:P,P...]... | --all-topics)
                     (--to-earliest | --to-latest | --to-datetime T | --shift-by N | --to-offset N) [--execute]
       gregor groups delete --group ID... [options]
describe prints each partition's committed offset, log end offset and lag with its owner; --members lists
members and assignments instead. reset-offsets prints the new offsets and changes nothing unless --execute
(as kafka-consumer-groups.sh); the group must have no members.
  --group ID              a group (repeatable)
  --all-groups            describe: every group
  --members               describe: members (id, host, client id, assigned partitions)
  --topic T[:P,...]       reset-offsets: a topic, or some of its partitions (repeatable)
  --all-topics            reset-offsets: every topic the group has offsets for
  --to-earliest           the log start offset
  --to-latest             the log end offset
  --to-datetime T         the first offset at or after T (ms since the epoch or ISO 8601, e.g. 2024-01-31T10:00:00Z)
  --shift-by N            the committed offset + N (may be negative), kept inside the log
  --to-offset N           offset N, kept inside the log
  --dry-run               print the plan only (the default)
  --execute               commit the new offsets
${COMMON_HELP}`;

export async function run(args: string[], io: Io): Promise<number> {
  const p = parse(args, {
    group: { type: 'string', multiple: true }, 'all-groups': { type: 'boolean' }, members: { type: 'boolean' },
    topic: { type: 'string', multiple: true }, 'all-topics': { type: 'boolean' }, 'to-earliest': { type: 'boolean' },
    'to-latest': { type: 'boolean' }, 'to-datetime': { type: 'string' }, 'shift-by': { type: 'string' }, 'to-offset': { type: 'string' },
    'dry-run': { type: 'boolean' }, execute: { type: 'boolean' },
  });
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  const [sub, ...rest] = p.positionals;
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const groups = list(p, 'group');
  const commands: Record<string, (c: Client) => Promise<void>> = {
    list: (c) => listGroups(c, io),
    describe: (c) => describe(c, io, groups, !!p.values['all-groups'], !!p.values.members),
    'reset-offsets': (c) => resetOffsets(c, io, p, groups),
    delete: (c) => deleteGroups(c, io, groups),
  };
  if (!sub || !commands[sub]) throw new UsageError(sub ? `unknown groups command ${sub}` : 'groups needs a command: list, describe, reset-offsets or delete');
  if (sub !== 'list' && groups.length === 0 && !(sub === 'describe' && p.values['all-groups'])) throw new UsageError(`groups ${sub} needs --group`);
  if (sub === 'reset-offsets') resetSpec(p); // usage errors before connecting
  const { client } = makeClient(p, io);
  try {
    await commands[sub]!(client);
    return 0;
  } finally {
    await client.close();
  }
}

interface Listed { groupId: string; protocolType: string; state: string; type: string }

/** ListGroups on every broker (each lists the groups it coordinates). */
async function allGroups(client: Client): Promise<Listed[]> {
  await client.retry('Metadata', () => client.metadata([]));
  const out: Listed[] = [];
  for (const id of client.brokers.keys()) {
    const res = await client.retry(`ListGroups on broker ${id}`, async () => {
      const r = await (await client.broker(id)).request(API.ListGroups, {});
      check(r.errorCode, `ListGroups on broker ${id}`);
      return r;
    });
    for (const g of res.groups) out.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? '', type: g.groupType ?? '' });
  }
  return out.sort((a, b) => a.groupId.localeCompare(b.groupId));
}

async function listGroups(client: Client, io: Io): Promise<void> {
  const gs = await allGroups(client);
  io.out(table([['GROUP', 'TYPE', 'PROTOCOL-TYPE', 'STATE'], ...gs.map((g) => [g.groupId, g.type || '-', g.protocolType || '-', g.state || '-'])]));
}

interface Described { groupId: string; errorCode: number; errorMessage: string | null; state: string; protocolType: string; protocol: string; members: Array<{ memberId: string; clientId: string; host: string; assignment: Map<string, number[]> }> }

async function describeGroup(client: Client, groupId: string): Promise<Described> {
  return client.retry(`DescribeGroups ${groupId}`, async () => {
    const c = await client.coordinator(groupId);
    const res = await c.request(API.DescribeGroups, { groups: [groupId] });
    const g = res.groups[0];
    // A retriable error (loading, not the coordinator) is retried; others are the group's answer.
    if (g.errorCode !== 0 && new KafkaError(g.errorCode, '').retriable) throw new KafkaError(g.errorCode, `DescribeGroups ${groupId}`, g.errorMessage);
    return {
      groupId, errorCode: g.errorCode, errorMessage: g.errorMessage, state: g.groupState, protocolType: g.protocolType, protocol: g.protocolData,
      members: (g.members as any[]).map((m) => ({
        memberId: m.memberId, clientId: m.clientId, host: m.clientHost,
        assignment: g.protocolType === 'consumer' ? safeAssignment(m.memberAssignment) : new Map<string, number[]>(),
      })),
    };
  });
}

function safeAssignment(b: Buffer): Map<string, number[]> {
  try { return decodeAssignment(b); } catch { return new Map(); }
}

async function topicsOf(client: Client, names: string[]): Promise<TopicInfo[]> {
  if (names.length === 0) return [];
  const { topics } = await client.retry('Metadata', () => client.metadata(names));
  return topics.filter((t) => t.errorCode === 0);
}

async function describe(client: Client, io: Io, groups: string[], all: boolean, members: boolean): Promise<void> {
  const ids = all ? (await allGroups(client)).map((g) => g.groupId) : groups;
  let missing = 0;
  for (const groupId of ids) {
    const d = await describeGroup(client, groupId);
    const committed = await fetchCommitted(client, groupId);
    const dead = d.state === 'Dead' || d.errorCode === 69; // GROUP_ID_NOT_FOUND (v6)
    if (dead && committed.size === 0) { io.err(`Consumer group '${groupId}' does not exist.\n`); missing++; continue; }
    if (d.errorCode !== 0 && !dead) io.err(`${new KafkaError(d.errorCode, `DescribeGroups ${groupId}`, d.errorMessage).message}\n`);
    io.out(`\nGROUP ${groupId}  state ${dead ? 'Empty' : d.state || 'Unknown'}${d.protocol ? `  protocol ${d.protocol}` : ''}  members ${d.members.length}\n`);
    if (members) {
      io.out(table([['CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'], ...d.members.map((m) => [
        m.memberId, m.host, m.clientId, String([...m.assignment.values()].reduce((n, ps) => n + ps.length, 0)),
        [...m.assignment].map(([t, ps]) => `${t}(${ps.join(',')})`).join(' ') || '-',
      ])]));
      continue;
    }
    // Every partition committed or assigned, with its lag.
    const parts: Offsets = new Map();
    for (const [t, ps] of committed) for (const [x, o] of ps) setOffset(parts, t, x, o);
    const owner = new Map<string, (typeof d.members)[number]>();
    for (const m of d.members) for (const [t, ps] of m.assignment) for (const x of ps) { owner.set(`${t}:${x}`, m); if (!parts.get(t)?.has(x)) setOffset(parts, t, x, -1n); }
    const topics = await topicsOf(client, [...parts.keys()]);
    const ends = await listOffsets(client, topics, LATEST, new Map([...parts].map(([t, ps]) => [t, [...ps.keys()]])));
    const rows: string[][] = [['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']];
    for (const t of [...parts.keys()].sort()) {
      for (const x of [...parts.get(t)!.keys()].sort((a, b) => a - b)) {
        const cur = parts.get(t)!.get(x)!;
        const end = ends.get(t)?.get(x);
        const m = owner.get(`${t}:${x}`);
        rows.push([t, String(x), cur < 0n ? '-' : String(cur), end === undefined ? '-' : String(end), cur < 0n || end === undefined ? '-' : String(end - cur), m?.memberId ?? '-', m?.host ?? '-', m?.clientId ?? '-']);
      }
    }
    io.out(table(rows));
  }
  if (missing) throw new OperationError(`${missing} of ${ids.length} groups do not exist`);
}

type Spec = { kind: 'earliest' | 'latest' } | { kind: 'datetime'; ts: bigint } | { kind: 'shift'; by: bigint } | { kind: 'offset'; to: bigint };

function resetSpec(p: ReturnType<typeof parse>): Spec {
  const specs: Spec[] = [];
  if (p.values['to-earliest']) specs.push({ kind: 'earliest' });
  if (p.values['to-latest']) specs.push({ kind: 'latest' });
  const dt = str(p, 'to-datetime');
  if (dt !== undefined) specs.push({ kind: 'datetime', ts: parseTime(dt, '--to-datetime') });
  const shift = str(p, 'shift-by');
  if (shift !== undefined) {
    if (!/^-?\d+$/.test(shift)) throw new UsageError(`--shift-by must be an integer, got "${shift}"`);
    specs.push({ kind: 'shift', by: BigInt(shift) });
  }
  const to = str(p, 'to-offset');
  if (to !== undefined) {
    if (!/^\d+$/.test(to)) throw new UsageError(`--to-offset must be a non-negative integer, got "${to}"`);
    specs.push({ kind: 'offset', to: BigInt(to) });
  }
  if (specs.length !== 1) throw new UsageError('reset-offsets needs exactly one of --to-earliest, --to-latest, --to-datetime, --shift-by, --to-offset');
  if (p.values.execute && p.values['dry-run']) throw new UsageError('choose --dry-run or --execute');
  if (!p.values['all-topics'] && list(p, 'topic').length === 0) throw new UsageError('reset-offsets needs --topic or --all-topics');
  if (p.values['all-topics'] && list(p, 'topic').length) throw new UsageError('choose --topic or --all-topics');
  return specs[0]!;
}

async function resetOffsets(client: Client, io: Io, p: ReturnType<typeof parse>, groups: string[]): Promise<void> {
  const spec = resetSpec(p);
  const execute = !!p.values.execute;
  for (const groupId of groups) {
    const d = await describeGroup(client, groupId);
    if (d.members.length > 0 || !['Empty', 'Dead', ''].includes(d.state)) {
      throw new OperationError(`Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${d.state}.`);
    }
    const committed = await fetchCommitted(client, groupId);
    // topic → partitions (all of the topic's when none are named)
    const wanted = new Map<string, number[] | null>();
    if (p.values['all-topics']) for (const [t, ps] of committed) wanted.set(t, [...ps.keys()]);
    for (const spec of list(p, 'topic')) {
      const [t, ps] = spec.split(':');
      if (!t) throw new UsageError(`--topic: bad value "${spec}"`);
      const parts = ps === undefined ? null : ps.split(',').map((x) => {
        if (!/^\d+$/.test(x)) throw new UsageError(`--topic: bad partition "${x}" in "${spec}"`);
        return Number(x);
      });
      wanted.set(t, parts);
    }
    const topics = await topicsOf(client, [...wanted.keys()]);
    for (const t of wanted.keys()) if (!topics.some((x) => x.name === t)) throw new OperationError(`topic ${t} does not exist`);
    const only = new Map(topics.map((t) => {
      const ps = wanted.get(t.name) ?? t.partitions.map((x) => x.partition);
      for (const x of ps) if (!t.partitions.some((y) => y.partition === x)) throw new OperationError(`topic ${t.name} has no partition ${x}`);
      return [t.name, ps];
    }));
    const earliest = await listOffsets(client, topics, EARLIEST, only);
    const latest = await listOffsets(client, topics, LATEST, only);
    const target: Offsets = spec.kind === 'earliest' ? earliest : spec.kind === 'latest' ? latest
      : spec.kind === 'datetime' ? await listOffsets(client, topics, spec.ts, only) : new Map();
    const plan: Offsets = new Map();
    for (const [t, ps] of only) {
      for (const x of ps) {
        const lo = earliest.get(t)!.get(x)!;
        const hi = latest.get(t)!.get(x)!;
        let o: bigint;
        if (spec.kind === 'shift') o = (committed.get(t)?.get(x) ?? lo) + spec.by;
        else if (spec.kind === 'offset') o = spec.to;
        else o = target.get(t)!.get(x)!;
        setOffset(plan, t, x, o < lo ? lo : o > hi ? hi : o);
      }
    }
    const rows: string[][] = [['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET']];
    for (const [t, ps] of [...plan].sort((a, b) => a[0].localeCompare(b[0]))) for (const [x, o] of [...ps].sort((a, b) => a[0] - b[0])) rows.push([groupId, t, String(x), String(o)]);
    io.out(table(rows));
    if (execute) {
      await commitOffsets(client, groupId, plan);
      io.err(`Offsets of group ${groupId} reset.\n`);
    } else {
      io.err(`Dry run: nothing changed (add --execute to commit these offsets).\n`);
    }
  }
}

async function deleteGroups(client: Client, io: Io, groups: string[]): Promise<void> {
  let failed = 0;
  for (const groupId of groups) {
    const r = await client.retry(`DeleteGroups ${groupId}`, async () => {
      const res = await (await client.coordinator(groupId)).request(API.DeleteGroups, { groupsNames: [groupId] });
      const x = res.results[0];
      if (x.errorCode !== 0 && new KafkaError(x.errorCode, '').retriable) throw new KafkaError(x.errorCode, `DeleteGroups ${groupId}`, x.errorMessage);
      return x;
    });
    if (r.errorCode === 0) io.out(`Deletion of group '${groupId}' succeeded.\n`);
    else { io.err(`${new KafkaError(r.errorCode, `Deletion of group '${groupId}' failed`, r.errorMessage).message}\n`); failed++; }
  }
  if (failed) throw new OperationError(`${failed} of ${groups.length} groups not deleted`);
}
