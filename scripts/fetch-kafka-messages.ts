#!/usr/bin/env node
// Fetches Apache Kafka's RPC message definitions (common/message/*.json) from the kafka-clients jar
// into <repo>/.cache/kafka-messages/<version>/ (gitignored). The jar comes through `mvn dependency:copy`
// with the machine's Maven settings (repositories, mirrors) and strict checksums (`-C`: the published
// SHA-1 must match). The zip is read with a small pure-node reader (central directory + node:zlib
// inflateRaw), so no `unzip` binary is needed.
// Idempotent: does nothing when the extraction is already complete.
//
// CLI: node scripts/fetch-kafka-messages.ts [--version 4.4.0] [--dir OUT]

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { mavenCopyArtifact } from './kafka-ref.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KAFKA_MESSAGES_VERSION = '4.4.0';
const PREFIX = 'common/message/';
const DONE_MARKER = '.complete';

export function defaultCacheDir(version = KAFKA_MESSAGES_VERSION): string {
  return path.join(REPO_ROOT, '.cache', 'kafka-messages', version);
}

/** Directory holding the extracted *.json files. */
export function messagesDir(version = KAFKA_MESSAGES_VERSION, dir = defaultCacheDir(version)): string {
  return path.join(dir, 'common', 'message');
}

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** Extracts the entries whose names pass `filter` from a zip archive (stored or deflated entries). */
export function readZip(zip: Buffer, filter: (name: string) => boolean): ZipEntry[] {
  // End of central directory record: signature 0x06054b50, at most 65535 + 22 bytes from the end.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory record)');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || p === 0xffffffff) throw new Error('zip64 archives are not supported');
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry at ${p}`);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/') || !filter(name)) continue;
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw new Error(`${name}: unsupported compression method ${method}`);
    if (data.length !== size) throw new Error(`${name}: size mismatch`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    out.push({ name, data });
  }
  return out;
}

let crcTable: Uint32Array | undefined;
function crc32(b: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Ensures <dir>/common/message/*.json exist for `version`; downloads and verifies the jar when needed.
 * Returns the directory of the JSON files.
 */
export async function fetchKafkaMessages(
  opts: { version?: string; dir?: string; log?: (msg: string) => void } = {},
): Promise<string> {
  const version = opts.version ?? KAFKA_MESSAGES_VERSION;
  return fetchJarJson('kafka-clients', PREFIX, opts.dir ?? defaultCacheDir(version), version, opts.log);
}

/** Where the KRaft metadata record definitions (common/metadata/*.json of kafka-metadata) are extracted. */
export function defaultMetadataCacheDir(version = KAFKA_MESSAGES_VERSION): string {
  return path.join(REPO_ROOT, '.cache', 'kafka-metadata-records', version);
}

export function metadataRecordsDir(version = KAFKA_MESSAGES_VERSION, dir = defaultMetadataCacheDir(version)): string {
  return path.join(dir, 'common', 'metadata');
}

/**
 * Ensures <dir>/common/metadata/*.json (Kafka's `__cluster_metadata` record definitions, shipped in the
 * kafka-metadata jar) exist for `version`. Returns the directory of the JSON files.
 */
export async function fetchKafkaMetadataRecords(
  opts: { version?: string; dir?: string; log?: (msg: string) => void } = {},
): Promise<string> {
  const version = opts.version ?? KAFKA_MESSAGES_VERSION;
  return fetchJarJson('kafka-metadata', METADATA_PREFIX, opts.dir ?? defaultMetadataCacheDir(version), version, opts.log);
}

const METADATA_PREFIX = 'common/metadata/';

/** Extracts the `prefix*.json` entries (one level) of org.apache.kafka:<artifact>:<version> into `dir`. */
async function fetchJarJson(artifact: string, prefix: string, dir: string, version: string, logOpt?: (msg: string) => void): Promise<string> {
  const log = logOpt ?? ((m: string) => process.stderr.write(`[fetch-kafka-messages] ${m}\n`));
  const outDir = path.join(dir, ...prefix.split('/').filter(Boolean));
  if (fs.existsSync(path.join(dir, DONE_MARKER))) return outDir;

  const coords = `org.apache.kafka:${artifact}:${version}:jar`;
  log(`fetching ${coords} (mvn)`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(dir), `.fetch-${version}-`));
  let jar: Buffer;
  try {
    jar = fs.readFileSync(mavenCopyArtifact(coords, tmp));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const sha1 = createHash('sha1').update(jar).digest('hex');

  const entries = readZip(jar, (n) => n.startsWith(prefix) && n.endsWith('.json') && !n.slice(prefix.length).includes('/'));
  if (entries.length === 0) throw new Error(`${coords}: no ${prefix} entries`);
  fs.mkdirSync(outDir, { recursive: true });
  for (const e of entries) fs.writeFileSync(path.join(dir, e.name), e.data);
  fs.writeFileSync(path.join(dir, `${artifact}-${version}.jar`), jar);
  fs.writeFileSync(path.join(dir, `${artifact}-${version}.jar.sha1`), `${sha1}\n`);
  fs.writeFileSync(path.join(dir, DONE_MARKER), `${entries.length} files from ${coords}\n`);
  log(`extracted ${entries.length} files into ${outDir}`);
  return outDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('usage: node scripts/fetch-kafka-messages.ts [--version 4.4.0] [--dir OUT]\n');
    process.exit(0);
  }
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  fetchKafkaMessages({ version: opt('--version'), dir: opt('--dir') }).then(
    (d) => process.stdout.write(`${d}\n`),
    (err) => {
      process.stderr.write(`fetch-kafka-messages: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
