// Feature levels (KIP-584): what this node supports and Kafka's FeatureControlManager rules for changing the
// finalized levels (UpdateFeatures, `kafka-features.sh upgrade/downgrade`). A feature is listed only when gregor
// serves every level in its range: metadata.version (the record versions follow it, metadata-version.ts) and
// group.version 1 (KIP-848 is always served; level 0 would mean turning it off, which gregor cannot, so its
// range starts at 1), transaction.version 0–2 (every level is served: 0/1 are the EndTxn ≤ v4 path older
// clients use, 2 is KIP-890 part 2 — EndTxn v5 epoch bumps, implicit AddPartitionsToTxn through Produce v12+,
// TxnOffsetCommit v5; the coordinator picks the path per request version, as Kafka's). Not listed, as Kafka
// omits features whose highest level is 0: share.version, streams.version, kraft.version (no KIP-853),
// eligible.leader.replicas.version (no ELR maintenance).
import { MetadataVersion } from './metadata/metadata-version.ts';

export const METADATA_VERSION = 'metadata.version';
export const GROUP_VERSION = 'group.version';
export const TRANSACTION_VERSION = 'transaction.version';

export interface VersionRange { readonly min: number; readonly max: number }

export const SUPPORTED_FEATURES: ReadonlyMap<string, VersionRange> = new Map([
  [METADATA_VERSION, { min: MetadataVersion.MINIMUM, max: MetadataVersion.LATEST_PRODUCTION }],
  [GROUP_VERSION, { min: 1, max: 1 }],
  [TRANSACTION_VERSION, { min: 0, max: 2 }],
]);

/** Levels finalized when a log is bootstrapped (or found missing at start): Kafka 4.4's defaults for what is served. */
export const BOOTSTRAP_FEATURES: ReadonlyMap<string, number> = new Map([[GROUP_VERSION, 1], [TRANSACTION_VERSION, 2]]);

/** FeatureUpdate.UpgradeType. */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

export interface FeatureUpdate { readonly feature: string; readonly level: number; readonly upgradeType: number }

/**
 * Why this update cannot be applied to `finalized` (null: it can), in Kafka's words (FeatureControlManager
 * .updateFeature / QuorumFeatures.reasonNotSupported); the caller prefixes Kafka's "The update failed …".
 */
export function featureUpdateError(u: FeatureUpdate, finalized: ReadonlyMap<string, number>, nodeId: number): string | null {
  const invalid = (why: string) => `Invalid update version ${u.level} for feature ${u.feature}. ${why}`;
  if (u.level < 0) return invalid('A feature version cannot be less than 0.');
  if (u.upgradeType < UpgradeType.UPGRADE || u.upgradeType > UpgradeType.UNSAFE_DOWNGRADE) {
    return invalid('The controller does not support the given upgrade type.');
  }
  const range = SUPPORTED_FEATURES.get(u.feature);
  if (range === undefined) {
    // An unknown feature at level 0 is simply not finalized: nothing to refuse.
    if (u.level !== 0) return invalid(`Local controller ${nodeId} does not support this feature.`);
  } else if (u.level < range.min || u.level > range.max) {
    return invalid(`Local controller ${nodeId} only supports versions ${range.min}-${range.max}`);
  }
  const current = finalized.get(u.feature) ?? 0;
  if (u.level < current) {
    if (u.upgradeType === UpgradeType.UPGRADE) {
      return invalid("Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.");
    }
    if (u.feature === METADATA_VERSION) {
      // Kafka allows a safe downgrade only between levels without metadata changes; gregor does not track
      // which levels changed metadata, so every metadata.version downgrade is refused.
      const head = `Unsupported metadata.version downgrade from ${current} to ${u.level}.`;
      return u.upgradeType === UpgradeType.SAFE_DOWNGRADE
        ? `${head} Refusing to perform the requested downgrade because it might delete metadata information.`
        : `${head} Unsafe metadata downgrade is not supported in this version.`;
    }
  }
  return null;
}
