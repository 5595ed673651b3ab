// Every API handler the broker has, loaded (tests). The broker itself loads them on first use from
// registry.ts, which must list the same handlers with the same versions (registry.test.ts checks).
import type { Handler } from '../handler.ts';
import { handler as apiVersions } from './api-versions.ts';
import { handler as fetch } from './fetch.ts';
import { handler as listOffsets } from './list-offsets.ts';
import { handler as metadata } from './metadata.ts';
import { handler as createPartitions } from './create-partitions.ts';
import { handler as deleteRecords } from './delete-records.ts';
import { handler as deleteTopics } from './delete-topics.ts';
import { handler as describeCluster } from './describe-cluster.ts';
import { handler as describeLogDirs } from './describe-log-dirs.ts';
import { handler as offsetForLeaderEpoch } from './offset-for-leader-epoch.ts';
import { handler as produce } from './produce.ts';
import { handler as createTopics } from './create-topics.ts';
import { handler as describeConfigs } from './describe-configs.ts';
import { handler as alterConfigs } from './alter-configs.ts';
import { handler as incrementalAlterConfigs } from './incremental-alter-configs.ts';
import { handler as findCoordinator } from './find-coordinator.ts';
import { handler as joinGroup } from './join-group.ts';
import { handler as syncGroup } from './sync-group.ts';
import { handler as heartbeat } from './heartbeat.ts';
import { handler as leaveGroup } from './leave-group.ts';
import { handler as offsetCommit } from './offset-commit.ts';
import { handler as offsetFetch } from './offset-fetch.ts';
import { handler as offsetDelete } from './offset-delete.ts';
import { handler as listGroups } from './list-groups.ts';
import { handler as describeGroups } from './describe-groups.ts';
import { handler as deleteGroups } from './delete-groups.ts';
import { handler as initProducerId } from './init-producer-id.ts';
import { handler as consumerGroupHeartbeat } from './consumer-group-heartbeat.ts';
import { handler as consumerGroupDescribe } from './consumer-group-describe.ts';
import { handler as addPartitionsToTxn } from './add-partitions-to-txn.ts';
import { handler as addOffsetsToTxn } from './add-offsets-to-txn.ts';
import { handler as endTxn } from './end-txn.ts';
import { handler as txnOffsetCommit } from './txn-offset-commit.ts';
import { handler as describeProducers } from './describe-producers.ts';
import { handler as describeTransactions } from './describe-transactions.ts';
import { handler as listTransactions } from './list-transactions.ts';
export const allHandlers: readonly Handler[] = [apiVersions, metadata, produce, fetch, listOffsets, offsetForLeaderEpoch, deleteTopics, createPartitions, deleteRecords, describeCluster, describeLogDirs,
  createTopics, describeConfigs, alterConfigs, incrementalAlterConfigs,
  findCoordinator, joinGroup, syncGroup, heartbeat, leaveGroup, offsetCommit, offsetFetch, offsetDelete, listGroups, describeGroups, deleteGroups,
  consumerGroupHeartbeat, consumerGroupDescribe,
  initProducerId, addPartitionsToTxn, addOffsetsToTxn, endTxn, txnOffsetCommit, describeProducers, describeTransactions, listTransactions];
