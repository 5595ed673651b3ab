// OffsetDelete (key 47), v0: removes committed offsets (tombstones in __consumer_offsets). Kafka's checks:
// GROUP_ID_NOT_FOUND for a missing group, NON_EMPTY_GROUP for an active group not using the consumer
// protocol, GROUP_SUBSCRIBED_TO_TOPIC per partition of a topic an active consumer group subscribes to.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  OffsetDeleteApi,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
  makeOffsetDeleteResponse,
  makeOffsetDeleteResponsePartition,
  makeOffsetDeleteResponseTopic,
} from '../../protocol/generated/offset-delete.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<OffsetDeleteRequest, OffsetDeleteResponse>({
  api: OffsetDeleteApi,
  handle(ctx, req) {
    // KafkaApis.handleOffsetDeleteRequest: DELETE on the group.
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, req.groupId)) return makeOffsetDeleteResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const wanted = req.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
    return ctx.broker.groups.deleteOffsets(req.groupId, wanted).then((r) => {
      if (r.errorCode !== ErrorCode.NONE) return makeOffsetDeleteResponse({ errorCode: r.errorCode });
      let i = 0;
      return makeOffsetDeleteResponse({
        topics: req.topics.map((t) => makeOffsetDeleteResponseTopic({
          name: t.name,
          partitions: t.partitions.map((p) => makeOffsetDeleteResponsePartition({ partitionIndex: p.partitionIndex, errorCode: r.codes[i++]! })),
        })),
      });
    });
  },
});
