// Coordinator records (`type: coordinator-key` / `coordinator-value`): the keys and values the group and
// transaction coordinators write to `__consumer_offsets` / `__transaction_state`. Input: one directory per
// coordinator (named after Kafka's module, `group-coordinator`, `transaction-coordinator`) of Kafka's JSON.
// Output: protocol/generated/coordinator/ — one codec module per message (as for `data` messages) plus
// the log framing Kafka's CoordinatorRecordSerde uses: a key is int16 record type (the JSON's apiKey)
// then the key at version 0; a value is int16 version then the value at that version.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Code, FileState, type GeneratedFile, banner, emitIsDefaults, emitMessage, header } from './emit.ts';
import { type MessageModel, assignStructNames, loadMessageFile } from './model.ts';
import { kebab, tsString } from './naming.ts';
import { format, isEmpty } from './versions.ts';

export interface CoordinatorRecordModel {
  /** The record's name: the key's name without `Key` (OffsetCommit, TransactionLog). */
  readonly name: string;
  readonly recordType: number;
  readonly key: MessageModel;
  readonly value: MessageModel;
}

export interface CoordinatorModel {
  /** Kafka module name, e.g. `group-coordinator`. */
  readonly coordinator: string;
  /** Sorted by record type. */
  readonly records: CoordinatorRecordModel[];
}

/** Loads `dir/<coordinator>/*.json` and pairs each record type's key with its value. */
export function loadCoordinatorRecords(dir: string): CoordinatorModel[] {
  const subdirs = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  if (subdirs.length === 0) throw new Error(`no coordinator directories in ${dir}`);
  return subdirs.map((coordinator) => {
    if (!/^[a-z]+(-[a-z]+)*$/.test(coordinator)) throw new Error(`${dir}/${coordinator}: directory name must be kebab case`);
    const sub = path.join(dir, coordinator);
    const files = fs.readdirSync(sub).filter((f) => f.endsWith('.json')).sort();
    const keys = new Map<number, MessageModel>();
    const values = new Map<number, MessageModel>();
    for (const f of files) {
      const m = loadMessageFile(path.join(sub, f));
      const where = `${coordinator}/${f} (${m.name})`;
      if (m.type !== 'coordinator-key' && m.type !== 'coordinator-value') throw new Error(`${where}: type ${m.type} is not a coordinator record`);
      if (m.apiKey === null || m.apiKey < 0 || m.apiKey > 32767) throw new Error(`${where}: coordinator records need an int16 apiKey (the record type)`);
      const isKey = m.type === 'coordinator-key';
      if (!m.name.endsWith(isKey ? 'Key' : 'Value')) throw new Error(`${where}: name must end with ${isKey ? 'Key' : 'Value'}`);
      // The log carries the record type, not a version, before a key: keys have the one version 0.
      if (isKey && (format(m.validVersions) !== '0' || !isEmpty(m.flexibleVersions))) throw new Error(`${where}: a key must have validVersions "0" and no flexible versions`);
      const map = isKey ? keys : values;
      if (map.has(m.apiKey)) throw new Error(`${where}: duplicate ${m.type} for record type ${m.apiKey}`);
      map.set(m.apiKey, m);
    }
    const records: CoordinatorRecordModel[] = [];
    for (const [recordType, key] of [...keys].sort((a, b) => a[0] - b[0])) {
      const value = values.get(recordType);
      const name = key.name.slice(0, -'Key'.length);
      if (!value) throw new Error(`${coordinator}/${key.file}: no value for record type ${recordType}`);
      if (value.name !== `${name}Value`) throw new Error(`${coordinator}/${value.file}: value ${value.name} does not match key ${key.name}`);
      assignStructNames([key], [`${key.name}Record`]);
      assignStructNames([value], [`${value.name}Record`]);
      records.push({ name, recordType, key, value });
    }
    for (const k of values.keys()) if (!keys.has(k)) throw new Error(`${coordinator}: value for record type ${k} without a key`);
    if (records.length === 0) throw new Error(`${sub}: no coordinator records`);
    return { coordinator, records };
  });
}

function emitRecordFile(msg: MessageModel, recordType: number, kafkaVersion: string): GeneratedFile {
  const st = new FileState();
  const body = new Code();
  emitMessage(body, msg, st);
  emitIsDefaults(body, st);
  const n = msg.name;
  const flex = msg.flexibleVersions;
  body.line();
  if (msg.type === 'coordinator-key') {
    body.line(`/** The key as stored in the log: int16 record type ${recordType}, then the key at version 0. */`);
    body.open(`export function write${n}Record(m: ${n}): Buffer {`);
    body.line('const w = new Writer(64);');
    body.line(`w.int16(${recordType});`);
    body.line(`encode${n}(w, 0, m);`);
    body.line('return w.finishBuffer();');
    body.close();
    body.line();
    body.line(`/** Reads a stored key whose int16 prefix must be record type ${recordType}; bytes after the key are ignored, as Kafka does. */`);
    body.open(`export function read${n}Record(buf: Buffer): ${n} {`);
    body.line('const r = new Reader(buf);');
    body.line('const recordType = r.int16();');
    body.line(`if (recordType !== ${recordType}) throw new ProtocolError(\`${n}: record type \${recordType}, expected ${recordType}\`);`);
    body.line(`return decode${n}(r, 0);`);
    body.close();
  } else {
    body.line('/** The value as stored in the log: int16 version, then the value at that version. */');
    body.open(`export function write${n}Record(version: number, m: ${n}): Buffer {`);
    body.line('const w = new Writer(64);');
    body.line('w.int16(version);');
    body.line(`encode${n}(w, version, m);`);
    body.line('return w.finishBuffer();');
    body.close();
    body.line();
    body.line(`/** Reads a stored value (int16 version ${format(msg.validVersions)}, then the value); bytes after it are ignored, as Kafka does. */`);
    body.open(`export function read${n}Record(buf: Buffer): ${n} {`);
    body.line('const r = new Reader(buf);');
    body.line(`return decode${n}(r, r.int16());`);
    body.close();
  }
  body.line();
  body.open(`export const ${n}Record: CoordinatorMessageDescriptor<${n}> = {`);
  for (const [k, v] of [
    ['name', tsString(n)],
    ['type', tsString(msg.type)],
    ['recordType', String(recordType)],
    ['minVersion', String(msg.validVersions.lo)],
    ['maxVersion', String(msg.validVersions.hi)],
    ['flexibleMinVersion', String(isEmpty(flex) ? -1 : flex.lo)],
    ['decode', `decode${n}`],
    ['encode', `encode${n}`],
    ['make', `make${n}`],
    ['read', `read${n}Record`],
  ]) body.line(`${k}: ${v},`);
  body.close('};');
  return {
    path: `coordinator/${kebab(n)}.ts`,
    content: header(kafkaVersion, body, st, [`import type { CoordinatorMessageDescriptor } from './descriptors.ts';`], '../..'),
  };
}

function emitDescriptors(kafkaVersion: string): GeneratedFile {
  const c = new Code();
  c.line(banner(kafkaVersion));
  c.line();
  c.line(`import type { Reader } from '../../reader.ts';`);
  c.line(`import type { Writer } from '../../writer.ts';`);
  c.line();
  c.line('/** A coordinator record key or value: codec at a version, and `read` for the log form (int16 prefix + body). */');
  c.open('export interface CoordinatorMessageDescriptor<T> {');
  c.line('readonly name: string;');
  c.line(`readonly type: 'coordinator-key' | 'coordinator-value';`);
  c.line('/** The int16 that precedes a key in the log. */');
  c.line('readonly recordType: number;');
  c.line('readonly minVersion: number;');
  c.line('readonly maxVersion: number;');
  c.line('/** First flexible version, -1 when no version is flexible. */');
  c.line('readonly flexibleMinVersion: number;');
  c.line('decode(r: Reader, version: number): T;');
  c.line('encode(w: Writer, version: number, m: T): void;');
  c.line('make(init?: Partial<T>): T;');
  c.line('read(buf: Buffer): T;');
  c.close();
  c.line();
  c.line('/** One record type of a coordinator\'s log: its key and value messages. */');
  c.open('export interface CoordinatorRecordType {');
  c.line('readonly recordType: number;');
  c.line('/** The key\'s name without `Key` (OffsetCommit, GroupMetadata, TransactionLog, ...). */');
  c.line('readonly name: string;');
  c.line('readonly key: CoordinatorMessageDescriptor<any>;');
  c.line('readonly value: CoordinatorMessageDescriptor<any>;');
  c.close();
  c.line();
  return { path: 'coordinator/descriptors.ts', content: `${c.toString()}\n` };
}

function camel(kebabName: string): string {
  return kebabName.replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
}

function emitIndex(models: CoordinatorModel[], kafkaVersion: string): GeneratedFile {
  const c = new Code();
  c.line(banner(kafkaVersion));
  c.line();
  c.line(`import type { CoordinatorRecordType } from './descriptors.ts';`);
  const imports: Array<[string, string]> = [];
  for (const m of models) for (const r of m.records) for (const x of [r.key, r.value]) imports.push([`${x.name}Record`, kebab(x.name)]);
  imports.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  for (const [sym, file] of imports) c.line(`import { ${sym} } from './${file}.ts';`);
  c.line();
  c.line(`export type { CoordinatorMessageDescriptor, CoordinatorRecordType } from './descriptors.ts';`);
  for (const m of models) {
    const byType = new Map(m.records.map((r) => [r.recordType, r]));
    const max = Math.max(...byType.keys());
    c.line();
    c.line(`/** ${m.coordinator} records by record type (undefined: a type not generated here). */`);
    c.open(`export const ${camel(m.coordinator)}Records: ReadonlyArray<CoordinatorRecordType | undefined> = [`);
    for (let k = 0; k <= max; k++) {
      const r = byType.get(k);
      if (!r) c.line(`undefined, // ${k}`);
      else c.line(`{ recordType: ${k}, name: ${tsString(r.name)}, key: ${r.key.name}Record, value: ${r.value.name}Record },`);
    }
    c.close('];');
  }
  return { path: 'coordinator/index.ts', content: `${c.toString()}\n` };
}

export function emitCoordinatorFiles(models: CoordinatorModel[], kafkaVersion: string): GeneratedFile[] {
  const files: GeneratedFile[] = [emitDescriptors(kafkaVersion), emitIndex(models, kafkaVersion)];
  for (const m of models) {
    for (const r of m.records) {
      files.push(emitRecordFile(r.key, r.recordType, kafkaVersion));
      files.push(emitRecordFile(r.value, r.recordType, kafkaVersion));
    }
  }
  return files;
}
