// UpdateFeatures (key 57), v0-2: `kafka-features.sh upgrade/downgrade/disable` on one node. Every update is
// checked against this node's supported ranges and the finalized levels (controller/features.ts, Kafka's
// FeatureControlManager rules and messages); the first refusal fails the request as a whole (INVALID_UPDATE_VERSION,
// "The update failed for all features since …", no per-feature results), else the levels are committed as
// FeatureLevelRecords (nothing when validateOnly, v1+). v0: allowDowngrade means a safe downgrade. v0-1 list a
// result per feature (message "NONE", as Kafka); v2 answers without results. timeoutMs: one node commits at once.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  makeUpdateFeaturesResponse,
  UpdateFeaturesApi,
  type UpdateFeaturesRequest,
  type UpdateFeaturesResponse,
} from '../../protocol/generated/update-features.ts';
import { UpgradeType } from '../../controller/features.ts';
import { ControllerError } from '../../controller/quorum-controller.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<UpdateFeaturesRequest, UpdateFeaturesResponse>({
  api: UpdateFeaturesApi,
  async handle(ctx, req) {
    // ControllerApis.handleUpdateFeatures: ALTER on the cluster.
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [] };
    }
    const updates = req.featureUpdates.map((f) => ({
      feature: f.feature,
      level: f.maxVersionLevel,
      upgradeType: ctx.apiVersion === 0 ? (f.allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : f.upgradeType,
    }));
    try {
      await ctx.broker.controller.updateFeatures(updates, req.validateOnly);
    } catch (e) {
      if (!(e instanceof ControllerError)) throw e;
      const message = e.code === ErrorCode.INVALID_UPDATE_VERSION
        ? `The update failed for all features since the following feature had an error: ${e.message}`
        : e.message;
      return makeUpdateFeaturesResponse({ errorCode: e.code, errorMessage: message });
    }
    return makeUpdateFeaturesResponse({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: ctx.apiVersion >= 2 ? [] : updates.map((u) => ({ feature: u.feature, errorCode: ErrorCode.NONE, errorMessage: 'NONE' })),
    });
  },
});
