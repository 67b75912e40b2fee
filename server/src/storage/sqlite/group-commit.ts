// Group commit: the writes that arrive in one turn of the event loop run in one transaction, each in
// a savepoint of its own (one failing write does not undo the others), and are committed with one
// fsync. Every caller is answered only after the commit that holds its write is on disk: nothing of
// synchronous=FULL's promise is given up, but 64 concurrent notifications share a handful of fsyncs
// instead of each waiting for its own.
import type Database from 'better-sqlite3';

export interface CommitStats {
  /** Transactions committed (each one fsync at synchronous=FULL). */
  commits: number;
  /** Writes those transactions held. */
  writes: number;
}

interface Pending {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommit {
  write<T>(fn: () => T): Promise<T>;
  stats(): CommitStats;
  /** Commits what is queued now (at close). */
  flush(): void;
}

export function createGroupCommit(db: Database.Database, mapError: (err: unknown) => unknown): GroupCommit {
  let queue: Pending[] = [];
  let scheduled = false;
  const stats: CommitStats = { commits: 0, writes: 0 };
  // Nested in the batch's transaction, better-sqlite3 runs this as a SAVEPOINT.
  const savepoint = db.transaction((fn: () => unknown) => fn());

  function flush() {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      db.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: savepoint(item.run) });
          } catch (error) {
            outcomes.push({ ok: false, error: mapError(error) });
          }
        }
      })();
    } catch (err) {
      // The commit itself failed (disk full, I/O error): nothing of the batch is on disk.
      const e = mapError(err);
      for (const item of batch) item.reject(e);
      return;
    }
    stats.commits += 1;
    stats.writes += batch.length;
    batch.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  return {
    write<T>(fn: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ run: fn, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    stats: () => ({ ...stats }),
    flush,
  };
}
