// The metadata data layer of the controller: records → image (MetadataDelta), image → records
// (imageToRecords), the on-disk form of `__cluster_metadata` (log-format.ts), and the one-time migration of
// `gregor-topics.json`. See controller/README.md, "Metadata records and image".
export * from './image.ts';
export * from './delta.ts';
export * from './image-writer.ts';
export * from './metadata-version.ts';
export * from './log-format.ts';
export * from './migrate-topics.ts';
