/**
 * Writes the batches of one key (an org) a group at a time. A batch waits one turn of the event
 * loop, so that the requests already received are read and their batches join it; batches that
 * arrive while a group of their key is being written wait for it, and go together as the next
 * group, in arrival order, up to `limit` events. Concurrent callers (many HTTP requests for one
 * org) then share one transaction, one durable commit and one row per (day, member, source)
 * instead of paying for each; a lone caller pays one turn of the event loop.
 *
 * `write` answers one result per batch of the group, in order. When it fails, every batch of the
 * group fails with its error (the group is one transaction: none of it was written).
 *
 * @example
 *   const groups = new BatchGroups((org, batches) => writeTogether(org, batches), 50_000);
 *   await Promise.all([groups.add('acme', a), groups.add('acme', b)]); // one group: [a, b]
 */
export class BatchGroups<B extends { readonly events: readonly unknown[] }, R> {
  /** The batches waiting per key; a key is here while a group of it is being written. */
  private readonly waiting = new Map<string, Array<Waiting<B, R>>>();

  constructor(
    private readonly write: (key: string, batches: readonly B[]) => Promise<readonly R[]>,
    private readonly limit: number,
  ) {}

  add(key: string, batch: B): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry = { batch, resolve, reject };
      const queue = this.waiting.get(key);
      if (queue !== undefined) {
        queue.push(entry);
        return;
      }
      const fresh = [entry];
      this.waiting.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  private async drain(key: string, queue: Array<Waiting<B, R>>): Promise<void> {
    for (;;) {
      // One turn of the event loop first: the requests that arrived meanwhile are read, and
      // their batches join this group. On SQLite a write never yields to I/O on its own.
      await new Promise((resolve) => setImmediate(resolve));
      const group = this.next(queue);
      if (group.length === 0) break;
      try {
        const results = await this.write(
          key,
          group.map((g) => g.batch),
        );
        for (const [i, g] of group.entries()) g.resolve(results[i] as R);
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    this.waiting.delete(key);
  }

  /** The next group: the waiting batches in order while they fit in `limit` events (one at least). */
  private next(queue: Array<Waiting<B, R>>): Array<Waiting<B, R>> {
    let n = 0;
    let events = 0;
    while (n < queue.length) {
      const size = (queue[n] as Waiting<B, R>).batch.events.length;
      if (n > 0 && events + size > this.limit) break;
      events += size;
      n++;
    }
    return queue.splice(0, n);
  }
}

interface Waiting<B, R> {
  readonly batch: B;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}
