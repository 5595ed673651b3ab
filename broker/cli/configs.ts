// gregor configs describe|alter: DescribeConfigs / IncrementalAlterConfigs for topics and brokers, as
// kafka-configs.sh (--entity-type, --entity-name, --add-config k=v,…, --delete-config k,…).
import { API, check, type Client } from './client.ts';
import { COMMON_HELP, type Io, list, makeClient, OperationError, parse, parseConfigList, str, UsageError } from './common.ts';

const RESOURCE_TYPES: Record<string, number> = { topics: 2, brokers: 4 };
/** DescribeConfigs' configSource values, by Kafka's ConfigSource names. */
export const CONFIG_SOURCES = ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG', 'GROUP_CONFIG'];

export interface ConfigEntry { name: string; value: string | null; source: number; readOnly: boolean; sensitive: boolean }

/** A broker resource goes to that broker; a topic to any. */
async function connFor(client: Client, type: number, name: string) {
  return type === 4 && /^\d+$/.test(name) ? client.broker(Number(name)) : client.any();
}

export async function describeConfigs(client: Client, type: number, name: string): Promise<ConfigEntry[]> {
  return client.retry(`DescribeConfigs ${name}`, async () => {
    const c = await connFor(client, type, name);
    const res = await c.request(API.DescribeConfigs, { resources: [{ resourceType: type, resourceName: name, configurationKeys: null }], includeSynonyms: false });
    const r = res.results[0];
    check(r.errorCode, `DescribeConfigs ${name}`, r.errorMessage);
    return (r.configs as any[]).map((e) => ({ name: e.name, value: e.value, source: e.configSource, readOnly: e.readOnly, sensitive: e.isSensitive }))
      .sort((a, b) => a.name.localeCompare(b.name));
  });
}

/** SET (0) and DELETE (1) operations in one IncrementalAlterConfigs request. */
export async function alterConfigs(client: Client, type: number, name: string, set: Array<[string, string]>, del: string[]): Promise<void> {
  const configs = [...set.map(([k, v]) => ({ name: k, configOperation: 0, value: v })), ...del.map((k) => ({ name: k, configOperation: 1, value: null }))];
  await client.retry(`IncrementalAlterConfigs ${name}`, async () => {
    const c = await connFor(client, type, name);
    const res = await c.request(API.IncrementalAlterConfigs, { resources: [{ resourceType: type, resourceName: name, configs }], validateOnly: false });
    const r = res.responses[0];
    check(r.errorCode, `IncrementalAlterConfigs ${name}`, r.errorMessage);
  });
}

export const HELP = `usage: gregor configs describe --entity-type topics|brokers [--entity-name NAME] [--all] [options]
       gregor configs alter --entity-type topics|brokers --entity-name NAME
                            [--add-config k=v,k2=[a,b]] [--delete-config k,k2] [options]
describe prints the overrides (topics: set on the topic; brokers: dynamic ones), --all every config with its
source. Without --entity-name: every topic, or every broker. alter uses IncrementalAlterConfigs (SET/DELETE).
  --entity-type TYPE      topics or brokers
  --entity-name NAME      topic name or broker id
  --add-config LIST       k=v pairs to set, comma-separated (repeatable)
  --delete-config LIST    keys to remove, comma-separated (repeatable)
  --all                   describe: every config, not only overrides
${COMMON_HELP}`;

export async function run(args: string[], io: Io): Promise<number> {
  const p = parse(args, {
    'entity-type': { type: 'string' }, 'entity-name': { type: 'string' }, 'add-config': { type: 'string', multiple: true },
    'delete-config': { type: 'string', multiple: true }, all: { type: 'boolean' },
  });
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  const [sub, ...rest] = p.positionals;
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (sub !== 'describe' && sub !== 'alter') throw new UsageError(sub ? `unknown configs command ${sub}` : 'configs needs describe or alter');
  const typeName = str(p, 'entity-type');
  const type = typeName ? RESOURCE_TYPES[typeName] : undefined;
  if (type === undefined) throw new UsageError(`--entity-type must be topics or brokers${typeName ? `, got ${typeName}` : ''}`);
  const name = str(p, 'entity-name');
  const { client } = makeClient(p, io);
  try {
    if (sub === 'alter') {
      if (!name) throw new UsageError('alter needs --entity-name');
      const set = list(p, 'add-config').flatMap((s) => parseConfigList(s, '--add-config'));
      const del = list(p, 'delete-config').flatMap((s) => s.split(',').map((k) => k.trim()).filter(Boolean));
      if (set.length === 0 && del.length === 0) throw new UsageError('alter needs --add-config or --delete-config');
      await alterConfigs(client, type, name, set, del);
      io.out(`Completed updating config for ${typeName === 'topics' ? 'topic' : 'broker'} ${name}.\n`);
      return 0;
    }
    let names: string[];
    if (name) names = [name];
    else if (type === 2) names = (await client.metadata(null)).topics.map((t) => t.name).sort();
    else { await client.metadata([]); names = [...client.brokers.keys()].sort((a, b) => a - b).map(String); }
    let failed = false;
    for (const n of names) {
      let entries: ConfigEntry[];
      try { entries = await describeConfigs(client, type, n); } catch (e) { io.err(`${(e as Error).message}\n`); failed = true; continue; }
      const overrides = (e: ConfigEntry) => (type === 2 ? e.source === 1 : e.source === 2 || e.source === 3);
      const shown = p.values.all ? entries : entries.filter(overrides);
      io.out(`${type === 2 ? 'Topic' : 'Broker'} ${n}: ${p.values.all ? 'all configs' : type === 2 ? 'dynamic configs' : 'dynamic configs'}\n`);
      for (const e of shown) {
        const v = e.sensitive ? '(sensitive)' : e.value ?? 'null';
        io.out(`  ${e.name}=${v}${p.values.all ? ` (${CONFIG_SOURCES[e.source] ?? e.source}${e.readOnly ? ', read-only' : ''})` : ''}\n`);
      }
    }
    if (failed) throw new OperationError('some configs could not be described');
    return 0;
  } finally {
    await client.close();
  }
}
