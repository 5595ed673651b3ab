// DescribeLogDirs (key 35), v1-5. Follows Kafka's KafkaApis.handleDescribeLogDirsRequest and
// ReplicaManager.describeLogDirs for a broker with one log dir (the storage data dir):
// - topics null → every partition; otherwise the named partitions that exist (others are left out, and
//   a topic with none left is omitted, as Kafka does).
// - partitionSize: committed bytes of the partition's segments; offsetLag 0 (the high watermark is the
//   log end offset); isFutureKey false (no AlterReplicaLogDirs).
// - v4+ totalBytes / usableBytes: fs.statfs of the data dir; −1 ("unknown") with in-memory storage.
// - Per-dir errors: Kafka's unit of storage failure is the log dir, so a dir holding an offline
//   partition (corrupt segment, failed fsync) answers KAFKA_STORAGE_ERROR with no topics; so does a
//   failing statfs.
// Left out: authorizers (CLUSTER_AUTHORIZATION_FAILED never answered), isCordoned (always false).
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DescribeLogDirsApi,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type DescribeLogDirsTopic,
  makeDescribeLogDirsPartition,
  makeDescribeLogDirsResponse,
  makeDescribeLogDirsResult,
  makeDescribeLogDirsTopic,
} from '../../protocol/generated/describe-log-dirs.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<DescribeLogDirsRequest, DescribeLogDirsResponse>({
  api: DescribeLogDirsApi,
  async handle(ctx, req) {
    // KafkaApis.handleDescribeLogDirsRequest: DESCRIBE on the cluster, else an empty answer with the error.
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return makeDescribeLogDirsResponse({ throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] });
    }
    const hosted = ctx.broker.partitions;
    const { onDisk, path: dir } = hosted.logDir;
    const logDir = onDisk ? path.resolve(dir) : dir;

    // Snapshot before the first await: the partitions as they are when the request arrives.
    const wanted = req.topics === null ? null : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const topics: DescribeLogDirsTopic[] = [];
    for (const name of hosted.topicNames()) {
      const only = wanted?.get(name);
      if (wanted && !only) continue;
      const partitions = [];
      for (const p of hosted.partitionsOf(name)) {
        if (only && !only.has(p.index)) continue;
        partitions.push(makeDescribeLogDirsPartition({ partitionIndex: p.index, partitionSize: BigInt(p.log.size), offsetLag: 0n, isFutureKey: false }));
      }
      if (partitions.length > 0) topics.push(makeDescribeLogDirsTopic({ name, partitions }));
    }
    const offline = hosted.offline();

    let result;
    if (offline.length > 0) {
      ctx.broker.log.warn(`DescribeLogDirs: ${logDir} has offline partition(s) ${offline.map((l) => l.name).join(', ')}`);
      result = makeDescribeLogDirsResult({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir });
    } else if (!onDisk) {
      result = makeDescribeLogDirsResult({ errorCode: ErrorCode.NONE, logDir, topics, totalBytes: -1n, usableBytes: -1n });
    } else {
      try {
        const s = await statfs(logDir, { bigint: true });
        result = makeDescribeLogDirsResult({ errorCode: ErrorCode.NONE, logDir, topics, totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize });
      } catch (e) {
        ctx.broker.log.warn(`DescribeLogDirs: statfs ${logDir}: ${(e as Error).message}`);
        result = makeDescribeLogDirsResult({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir });
      }
    }
    return makeDescribeLogDirsResponse({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, results: [result] });
  },
});
