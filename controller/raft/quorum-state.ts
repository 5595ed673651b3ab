// The `quorum-state` file (Kafka's FileQuorumStateStore, data_version 1): the epoch, the leader this node
// knows and the vote it cast, written atomically before the node acts on it (a vote is never granted twice in
// one epoch, even across a crash).

import { join } from 'node:path';
import { type FsLike, readWholeFile, writeFileAtomic } from '../../storage/fs.ts';
import { ZERO_UUID } from './types.ts';

export interface ElectionState {
  epoch: number;
  leaderId: number; // -1: none
  votedId: number; // -1: none
}

export interface QuorumStateStore {
  /** The last durable state, or null for a new node. */
  read(): ElectionState | null;
  /** Makes `state` durable; `done` runs once it is. */
  write(state: ElectionState, done: () => void): void;
}

export const QUORUM_STATE_FILE = 'quorum-state';

/** The JSON Kafka writes (QuorumStateData v1 + data_version). */
export function formatQuorumState(s: ElectionState, clusterId = ''): string {
  return JSON.stringify({ clusterId, leaderId: s.leaderId, leaderEpoch: s.epoch, votedId: s.votedId, votedDirectoryId: ZERO_UUID, data_version: 1 });
}

/** Parses Kafka's quorum-state JSON (data_version 0 or 1); throws on anything else. */
export function parseQuorumState(text: string): ElectionState {
  const j = JSON.parse(text) as Record<string, unknown>;
  const num = (k: string): number => {
    const v = j[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`quorum-state: field ${k} is not an integer`);
    return v;
  };
  const version = num('data_version');
  if (version !== 0 && version !== 1) throw new Error(`quorum-state: unknown data_version ${version}`);
  return { epoch: num('leaderEpoch'), leaderId: num('leaderId'), votedId: num('votedId') };
}

/** The file-backed store on an injected FsLike. The state is read once at start (load) and cached. */
export class FileQuorumStateStore implements QuorumStateStore {
  readonly path: string;
  readonly #fs: FsLike;
  #state: ElectionState | null = null;
  #chain: Promise<void> = Promise.resolve();
  readonly #onError: (e: unknown) => void;

  constructor(fs: FsLike, dir: string, onError: (e: unknown) => void) {
    this.#fs = fs;
    this.path = join(dir, QUORUM_STATE_FILE);
    this.#onError = onError;
  }

  async load(): Promise<void> {
    const b = await readWholeFile(this.#fs, this.path);
    if (b !== null) this.#state = parseQuorumState(b.toString('utf8'));
  }

  read(): ElectionState | null { return this.#state; }

  write(state: ElectionState, done: () => void): void {
    this.#state = { ...state };
    const data = Buffer.from(formatQuorumState(state));
    // Writes are serialised: the file always ends at the last state handed in.
    this.#chain = this.#chain.then(() => writeFileAtomic(this.#fs, this.path, data)).then(done, this.#onError);
  }
}

/** In-memory store for the simulation: a write is durable only once `done` has run (after a simulated delay). */
export class MemoryQuorumStateStore implements QuorumStateStore {
  durable: ElectionState | null = null;
  #gen = 0;
  #seq = 0;
  #landed = 0;
  readonly #schedule: (ms: number, fn: () => void) => void;
  readonly #delay: () => number;
  constructor(schedule: (ms: number, fn: () => void) => void = (_ms, fn) => fn(), delay: () => number = () => 0) {
    this.#schedule = schedule;
    this.#delay = delay;
  }
  read(): ElectionState | null { return this.durable === null ? null : { ...this.durable }; }
  write(state: ElectionState, done: () => void): void {
    const s = { ...state };
    const gen = this.#gen;
    const seq = ++this.#seq;
    this.#schedule(this.#delay(), () => {
      if (gen !== this.#gen) return;
      // An older write landing after a newer one (atomic renames in another order) changes nothing.
      if (seq > this.#landed) { this.#landed = seq; this.durable = s; }
      done();
    });
  }
  /** A crash: writes in flight never land. */
  crash(): void { this.#gen++; }
}
