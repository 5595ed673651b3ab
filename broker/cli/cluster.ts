// gregor cluster describe: cluster id, controller and brokers (DescribeCluster, else Metadata on brokers
// that predate it).
import { API, check } from './client.ts';
import { COMMON_HELP, type Io, makeClient, parse, table, UsageError } from './common.ts';

export const HELP = `usage: gregor cluster describe [--json] [options]
Prints the cluster id, the controller and every broker (id, host:port, rack).
  --json                  one JSON object instead of text
${COMMON_HELP}`;

export async function run(args: string[], io: Io): Promise<number> {
  const p = parse(args, { json: { type: 'boolean' } });
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  const [sub, ...rest] = p.positionals;
  if (sub !== 'describe' || rest.length) throw new UsageError(sub && sub !== 'describe' ? `unknown cluster command ${sub}` : rest.length ? `unexpected argument ${rest[0]}` : 'cluster needs describe');
  const { client } = makeClient(p, io);
  try {
    const info = await client.retry('DescribeCluster', async () => {
      const c = await client.any();
      if (!c.versions.has(API.DescribeCluster)) {
        const { res } = await client.metadata([]);
        return { clusterId: res.clusterId, controllerId: res.controllerId, brokers: res.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack })) };
      }
      const res = await c.request(API.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      check(res.errorCode, 'DescribeCluster', res.errorMessage);
      return { clusterId: res.clusterId, controllerId: res.controllerId, brokers: (res.brokers as any[]).map((b) => ({ id: b.brokerId, host: b.host, port: b.port, rack: b.rack })) };
    });
    info.brokers.sort((a, b) => a.id - b.id);
    if (p.values.json) { io.out(JSON.stringify(info) + '\n'); return 0; }
    io.out(`Cluster ID: ${info.clusterId}\nController: ${info.controllerId}\n`);
    io.out(table([['BROKER', 'HOST', 'PORT', 'RACK'], ...info.brokers.map((b) => [String(b.id), b.host, String(b.port), b.rack ?? ''])]));
    return 0;
  } finally {
    await client.close();
  }
}
