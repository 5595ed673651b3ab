// KRaft metadata records (`type: metadata`): the records of `__cluster_metadata` (TopicRecord,
// PartitionRecord, ...). Input: Kafka's `common/metadata/*.json` from the kafka-metadata jar (fetched by
// scripts/fetch-kafka-messages.ts). Output: protocol/generated/metadata/ — one codec module per record (as
// for `data` messages) plus the framing Kafka's AbstractApiMessageSerde (MetadataRecordSerde) writes as a
// record's value: unsigned varint frame version (1), unsigned varint record type (the JSON's apiKey),
// unsigned varint record version, then the record at that version. The key of a metadata record is null.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Code, FileState, type GeneratedFile, banner, emitIsDefaults, emitMessage, header } from './emit.ts';
import { type MessageModel, assignStructNames, loadMessageFile } from './model.ts';
import { kebab, tsString } from './naming.ts';
import { isEmpty } from './versions.ts';

/** AbstractApiMessageSerde.DEFAULT_FRAME_VERSION (frame version 0 is only used by control records). */
export const METADATA_FRAME_VERSION = 1;

/** Loads every metadata record of `dir`, sorted by record type; other message types are an error. */
export function loadMetadataRecords(dir: string): MessageModel[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const byType = new Map<number, MessageModel>();
  for (const f of files) {
    const m = loadMessageFile(path.join(dir, f));
    const where = `${f} (${m.name})`;
    if (m.type !== 'metadata') throw new Error(`${where}: type ${m.type} is not a metadata record`);
    if (m.apiKey === null || m.apiKey < 0 || m.apiKey > 32767) throw new Error(`${where}: a metadata record needs an apiKey (its record type)`);
    if (!m.name.endsWith('Record')) throw new Error(`${where}: name must end with Record`);
    if (byType.has(m.apiKey)) throw new Error(`${where}: duplicate record type ${m.apiKey}`);
    assignStructNames([m], [`${m.name}Descriptor`]);
    byType.set(m.apiKey, m);
  }
  if (byType.size === 0) throw new Error(`no metadata records in ${dir}`);
  return [...byType.values()].sort((a, b) => a.apiKey! - b.apiKey!);
}

function emitRecordFile(msg: MessageModel, kafkaVersion: string): GeneratedFile {
  const st = new FileState();
  const body = new Code();
  emitMessage(body, msg, st);
  emitIsDefaults(body, st);
  const n = msg.name;
  const type = msg.apiKey!;
  const flex = msg.flexibleVersions;
  body.line();
  body.line(`/** The record as stored in \`__cluster_metadata\` (a record value): uvarint frame version ${METADATA_FRAME_VERSION}, uvarint record type ${type}, uvarint version, then the record. */`);
  body.open(`export function write${n}(version: number, m: ${n}): Buffer {`);
  body.line('const w = new Writer(64);');
  body.line(`w.uvarint(${METADATA_FRAME_VERSION});`);
  body.line(`w.uvarint(${type});`);
  body.line('w.uvarint(version);');
  body.line(`encode${n}(w, version, m);`);
  body.line('return w.finishBuffer();');
  body.close();
  body.line();
  body.open(`export const ${n}Descriptor: MetadataRecordDescriptor<${n}> = {`);
  for (const [k, v] of [
    ['name', tsString(n)],
    ['recordType', String(type)],
    ['minVersion', String(msg.validVersions.lo)],
    ['maxVersion', String(msg.validVersions.hi)],
    ['flexibleMinVersion', String(isEmpty(flex) ? -1 : flex.lo)],
    ['decode', `decode${n}`],
    ['encode', `encode${n}`],
    ['make', `make${n}`],
    ['write', `write${n}`],
  ]) body.line(`${k}: ${v},`);
  body.close('};');
  return {
    path: `metadata/${kebab(n)}.ts`,
    content: header(kafkaVersion, body, st, [`import type { MetadataRecordDescriptor } from './descriptors.ts';`], '../..'),
  };
}

function emitDescriptors(kafkaVersion: string): GeneratedFile {
  const c = new Code();
  c.line(banner(kafkaVersion));
  c.line();
  c.line(`import type { Reader } from '../../reader.ts';`);
  c.line(`import type { Writer } from '../../writer.ts';`);
  c.line();
  c.line('/** One `__cluster_metadata` record type: codec at a version, and `write` for the framed log form. */');
  c.open('export interface MetadataRecordDescriptor<T> {');
  c.line('readonly name: string;');
  c.line('/** The record type (the JSON\'s apiKey), written after the frame version. */');
  c.line('readonly recordType: number;');
  c.line('readonly minVersion: number;');
  c.line('readonly maxVersion: number;');
  c.line('/** First flexible version, -1 when no version is flexible. */');
  c.line('readonly flexibleMinVersion: number;');
  c.line('decode(r: Reader, version: number): T;');
  c.line('encode(w: Writer, version: number, m: T): void;');
  c.line('make(init?: Partial<T>): T;');
  c.line('write(version: number, m: T): Buffer;');
  c.close();
  c.line();
  return { path: 'metadata/descriptors.ts', content: `${c.toString()}\n` };
}

function emitIndex(records: MessageModel[], kafkaVersion: string): GeneratedFile {
  const c = new Code();
  c.line(banner(kafkaVersion));
  c.line();
  c.line(`import { ProtocolError, Reader } from '../../reader.ts';`);
  c.line(`import type { MetadataRecordDescriptor } from './descriptors.ts';`);
  const imports = records.map((r) => [`${r.name}Descriptor`, `type ${r.name}`, kebab(r.name)] as const);
  for (const [d, t, file] of [...imports].sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0))) c.line(`import { ${d}, ${t} } from './${file}.ts';`);
  c.line();
  c.line(`export type { MetadataRecordDescriptor } from './descriptors.ts';`);
  c.line();
  c.line(`/** AbstractApiMessageSerde's frame version; 0 is only used by control records. */`);
  c.line(`export const METADATA_FRAME_VERSION = ${METADATA_FRAME_VERSION};`);
  c.line();
  c.line('/** Record type ids (apiKey of each metadata record JSON). */');
  c.open('export const MetadataRecordType = {');
  for (const r of records) c.line(`${r.name.slice(0, -'Record'.length)}: ${r.apiKey},`);
  c.close('} as const;');
  c.line();
  c.line('/** A decoded metadata record, discriminated by `type`. */');
  c.line('export type MetadataRecord =');
  for (const r of records) c.line(`  | { readonly type: ${r.apiKey}; readonly version: number; readonly data: ${r.name} }`);
  c.line('  ;');
  c.line();
  const max = Math.max(...records.map((r) => r.apiKey!));
  const byType = new Map(records.map((r) => [r.apiKey!, r]));
  c.line('/** Metadata record descriptors by record type (undefined: a type Kafka does not define). */');
  c.open('export const metadataRecords: ReadonlyArray<MetadataRecordDescriptor<any> | undefined> = [');
  for (let k = 0; k <= max; k++) {
    const r = byType.get(k);
    c.line(r ? `${r.name}Descriptor, // ${k}` : `undefined, // ${k}`);
  }
  c.close('];');
  c.line();
  c.line('/**');
  c.line(' * Decodes a record value of `__cluster_metadata` (frame version, record type, version, record), as');
  c.line(' * MetadataRecordSerde does: an unknown frame version, record type or version, or bytes left over, is a');
  c.line(' * ProtocolError.');
  c.line(' */');
  c.open('export function readMetadataRecord(buf: Buffer): MetadataRecord {');
  c.line('const r = new Reader(buf);');
  c.line('const frame = r.uvarint();');
  c.line('if (frame !== METADATA_FRAME_VERSION) throw new ProtocolError(`metadata record frame version ${frame}, expected ${METADATA_FRAME_VERSION}`);');
  c.line('const type = r.uvarint();');
  c.line('const d = metadataRecords[type];');
  c.line('if (!d) throw new ProtocolError(`unknown metadata record type ${type}`);');
  c.line('const version = r.uvarint();');
  c.line('if (version < d.minVersion || version > d.maxVersion) throw new ProtocolError(`${d.name}: unsupported version ${version}`);');
  c.line('const data = d.decode(r, version);');
  c.line('if (r.remaining !== 0) throw new ProtocolError(`${d.name}: ${r.remaining} bytes after the record`);');
  c.line('return { type, version, data } as MetadataRecord;');
  c.close();
  c.line();
  c.line('/** Encodes a metadata record in its log form (see readMetadataRecord). */');
  c.open('export function writeMetadataRecord(rec: MetadataRecord): Buffer {');
  c.line('const d = metadataRecords[rec.type];');
  c.line('if (!d) throw new Error(`unknown metadata record type ${rec.type}`);');
  c.line('return d.write(rec.version, rec.data);');
  c.close();
  return { path: 'metadata/index.ts', content: `${c.toString()}\n` };
}

export function emitMetadataFiles(records: MessageModel[], kafkaVersion: string): GeneratedFile[] {
  return [emitDescriptors(kafkaVersion), emitIndex(records, kafkaVersion), ...records.map((r) => emitRecordFile(r, kafkaVersion))];
}
