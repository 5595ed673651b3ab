#!/usr/bin/env node
// Codec generator: Kafka message definitions (JSON) -> protocol/generated/*.ts
//
//   node scripts/codegen/main.ts [--messages DIR] [--metadata-records DIR] [--coordinator-records DIR] [--errors FILE] [--out DIR] [--kafka-version V]
//
// Defaults: messages fetched/extracted by scripts/fetch-kafka-messages.ts into .cache/kafka-messages/,
// metadata records (kafka-metadata jar) into .cache/kafka-metadata-records/,
// coordinator records from scripts/codegen/coordinator-records/ (committed), errors from
// ../shared/kafka-protocol/errors.tsv (relative to the repo root), out protocol/generated.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAFKA_MESSAGES_VERSION, fetchKafkaMessages, fetchKafkaMetadataRecords } from '../fetch-kafka-messages.ts';
import { emitCoordinatorFiles, loadCoordinatorRecords } from './coordinator.ts';
import { type GeneratedFile, emitAll } from './emit.ts';
import { emitMetadataFiles, loadMetadataRecords } from './metadata.ts';
import { loadModel } from './model.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_ERRORS = path.resolve(REPO_ROOT, '..', 'shared', 'kafka-protocol', 'errors.tsv');
export const DEFAULT_OUT = path.join(REPO_ROOT, 'protocol', 'generated');
export const DEFAULT_COORDINATOR_RECORDS = path.join(REPO_ROOT, 'scripts', 'codegen', 'coordinator-records');

/** Generates every file in memory (sorted by path). */
export function generate(opts: { messages: string; metadataRecords: string; errors: string; coordinatorRecords?: string; kafkaVersion?: string }): GeneratedFile[] {
  const model = loadModel(opts.messages);
  const tsv = fs.readFileSync(opts.errors, 'utf8');
  const version = opts.kafkaVersion ?? KAFKA_MESSAGES_VERSION;
  const coordinator = emitCoordinatorFiles(loadCoordinatorRecords(opts.coordinatorRecords ?? DEFAULT_COORDINATOR_RECORDS), version);
  const metadata = emitMetadataFiles(loadMetadataRecords(opts.metadataRecords), version);
  const files = [...emitAll(model, tsv, version), ...coordinator, ...metadata];
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new Error(`two generated files named ${f.path}`);
    seen.add(f.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every *.ts under `dir`, as paths relative to it with `/` separators, sorted. */
export function listGenerated(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...listGenerated(path.join(dir, e.name)).map((f) => `${e.name}/${f}`));
    else if (e.name.endsWith('.ts')) out.push(e.name);
  }
  return out.sort();
}

/** Writes the files into `out` (paths may have one directory), removing stale generated *.ts files. Returns the number written. */
export function writeFiles(files: GeneratedFile[], out: string): number {
  const keep = new Set(files.map((f) => f.path));
  for (const dir of new Set(files.map((f) => path.dirname(f.path)))) fs.mkdirSync(path.join(out, dir), { recursive: true });
  for (const name of listGenerated(out)) {
    if (!keep.has(name)) fs.rmSync(path.join(out, name));
  }
  for (const f of files) {
    const p = path.join(out, f.path);
    if (fs.existsSync(p) && fs.readFileSync(p, 'utf8') === f.content) continue;
    fs.writeFileSync(p, f.content);
  }
  return files.length;
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  for (const a of argv) {
    if (a.startsWith('--') && !['--messages', '--metadata-records', '--coordinator-records', '--errors', '--out', '--kafka-version'].includes(a)) throw new Error(`unknown option ${a}`);
  }
  const kafkaVersion = opt('--kafka-version') ?? KAFKA_MESSAGES_VERSION;
  const messages = path.resolve(opt('--messages') ?? (await fetchKafkaMessages({ version: kafkaVersion })));
  const metadataRecords = path.resolve(opt('--metadata-records') ?? (await fetchKafkaMetadataRecords({ version: kafkaVersion })));
  const errors = path.resolve(opt('--errors') ?? DEFAULT_ERRORS);
  const out = path.resolve(opt('--out') ?? DEFAULT_OUT);
  const coordinatorRecords = path.resolve(opt('--coordinator-records') ?? DEFAULT_COORDINATOR_RECORDS);
  const files = generate({ messages, metadataRecords, errors, coordinatorRecords, kafkaVersion });
  const n = writeFiles(files, out);
  process.stdout.write(`codegen: ${n} files from ${messages} into ${path.relative(process.cwd(), out) || '.'}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`codegen: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
