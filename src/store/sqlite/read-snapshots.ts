import type SQLite from 'better-sqlite3';

/** How long a snapshot is shared: at 5,000 requests a second, about five requests' reads. */
const SNAPSHOT_MS = 1;

/**
 * The reader connection's read transactions, each shared by the reads of a millisecond. A read
 * outside a transaction takes SQLite's shared lock and gives it back: two `fcntl` calls, most of
 * what a small read costs (5 µs alone, about 20 µs inside a busy server, against under 1 µs for
 * the read itself). Here the first read begins a transaction, and every read until a timer ends
 * it (`SNAPSHOT_MS`, or the rest of the event loop's turn if that is longer) shares its snapshot.
 * A server that falls behind answers many requests in one turn, so each read gets cheaper just
 * when it counts.
 *
 * Reads must still see every write of this process that committed before them, and must not hold
 * the write-ahead log while a commit checkpoints it: the writer connection ends the snapshot
 * before each statement that writes or begins or ends a transaction (`cachingStatements`).
 * Another process's commit is seen once the snapshot ends.
 */
export class ReadSnapshots {
  private inSnapshot = false;
  /**
   * The timer that ends the snapshot, one at a time: when a write ends a snapshot early, the next
   * one ends with the same timer (sooner, then), so reads between frequent writes do not each
   * start a timer.
   */
  private timer: NodeJS.Timeout | undefined;
  private readonly begin: SQLite.Statement;
  private readonly commit: SQLite.Statement;

  constructor(readonly connection: SQLite.Database) {
    this.begin = connection.prepare('BEGIN');
    this.commit = connection.prepare('COMMIT');
  }

  /** Runs `read` on the connection, in the current snapshot. */
  read<T>(read: () => T): T {
    if (!this.inSnapshot) {
      this.begin.run();
      this.inSnapshot = true;
      this.timer ??= setTimeout(this.expire, SNAPSHOT_MS).unref();
    }
    return read();
  }

  /** Ends the snapshot, if one is open: the next read sees the last commit. */
  readonly end = (): void => {
    if (!this.inSnapshot) return;
    this.inSnapshot = false;
    if (this.connection.open) this.commit.run();
  };

  private readonly expire = (): void => {
    this.timer = undefined;
    this.end();
  };

  close(): void {
    clearTimeout(this.timer);
    this.end();
    this.connection.close();
  }
}
