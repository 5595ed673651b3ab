// Wakes long-polling fetches when a partition gets new data. Keys are "topic\0partition".

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class AppendNotifier {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** New data is readable in this partition. */
  notify(topic: string, partition: number): void {
    const set = this.#waiters.get(partitionKey(topic, partition));
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /** Calls `wake` on every append to any of the keys until the returned cancel function is called. */
  subscribe(keys: readonly string[], wake: () => void): () => void {
    for (const k of keys) {
      let set = this.#waiters.get(k);
      if (!set) this.#waiters.set(k, (set = new Set()));
      set.add(wake);
    }
    return () => {
      for (const k of keys) {
        const set = this.#waiters.get(k);
        if (!set) continue;
        set.delete(wake);
        if (set.size === 0) this.#waiters.delete(k);
      }
    };
  }
}
