// Group commit: the writes that arrive in one turn of the event loop run in one transaction, each in
// a savepoint of its own (one failing write does not undo the others). Every caller is answered only
// once the commit that holds its write is on disk.
//
// With a `sync` (a file database), the connection runs at synchronous=NORMAL and the group commit does
// what synchronous=FULL would do inside COMMIT — sync the WAL file — itself, on the thread pool: the event
// loop goes on serving while the disk works, and the commits made meanwhile share the next sync. What
// FULL promises still holds for everyone who is answered: nothing is acknowledged before the sync that
// covers it has returned. A sync that fails fails its callers and every later write (fail-stop: after a
// failed fsync the kernel's view of the file cannot be trusted; the process must restart).
//
// Where other processes write to the same file (cluster workers, the reconcile CLI), a batch takes the
// write lock when it begins (BEGIN IMMEDIATE): a batch that reads before it writes cannot then fail on
// a snapshot another process moved meanwhile (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries).
// While another process holds the lock, the batch waits on a timer, not in SQLite's busy handler
// (which sleeps on the event loop), for as long as the connection's busy_timeout allows, then fails.
import type Database from 'better-sqlite3';

export interface CommitStats {
  /** Transactions committed. */
  commits: number;
  /** Writes those transactions held. */
  writes: number;
  /** Syncs of the WAL file (fsync), each covering every commit made before it began. */
  syncs: number;
  /** Their time in all, in milliseconds (the disk's share of a write's wait). */
  syncMs: number;
}

interface Pending {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Makes what was committed so far durable; calls back when it is (or with the error). */
export type Sync = (done: (err: Error | null) => void) => void;

export interface GroupCommit {
  write<T>(fn: () => T): Promise<T>;
  stats(): CommitStats;
  /** Commits what is queued now and waits until it is durable (at close). */
  drain(): Promise<void>;
  /** The error of a failed sync, after which nothing is written (null while syncs succeed). */
  failure(): unknown;
}

type Settle = () => void;
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function createGroupCommit(
  db: Database.Database,
  mapError: (err: unknown) => unknown,
  sync: Sync | null,
  onSyncFailure: (err: Error) => void = () => {},
): GroupCommit {
  let queue: Pending[] = [];
  let scheduled = false;
  const stats: CommitStats = { commits: 0, writes: 0, syncs: 0, syncMs: 0 };
  // Nested in the batch's transaction, better-sqlite3 runs this as a SAVEPOINT.
  const savepoint = db.transaction((fn: () => unknown) => fn());
  /** Committed, waiting for a sync that begins after their commit. */
  let unsynced: { settle: Settle; fail: (e: unknown) => void }[] = [];
  let syncing = false;
  let failed: unknown = null;
  const idle: (() => void)[] = [];
  // The batch in one transaction that holds the write lock from its start; while it tries, SQLite's own
  // busy handler is off (it would sleep on the event loop) and the connection's timeout is kept here.
  const busyTimeoutMs = Number(db.pragma('busy_timeout', { simple: true })) || 0;
  const noBusyWait = db.prepare('PRAGMA busy_timeout = 0');
  const busyWait = db.prepare(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  const runBatch = db.transaction((batch: Pending[], outcomes: Outcome[]) => {
    for (const item of batch) {
      try {
        outcomes.push({ ok: true, value: savepoint(item.run) });
      } catch (error) {
        outcomes.push({ ok: false, error: mapError(error) });
      }
    }
  }).immediate;
  /** Since when the batch at the head of the queue has found the write lock taken (null: it has not). */
  let busySince: number | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;

  /** Answers drain() once nothing is queued for a retry, committed but unsynced, or syncing. */
  function settleIdle() {
    if (!syncing && !retry && unsynced.length === 0) for (const f of idle.splice(0)) f();
  }

  function startSync() {
    if (syncing || unsynced.length === 0) return settleIdle();
    syncing = true;
    const covered = unsynced;
    unsynced = [];
    const started = performance.now();
    sync!((err) => {
      syncing = false;
      stats.syncs += 1;
      stats.syncMs += performance.now() - started;
      if (err && !failed) {
        failed = mapError(err);
        onSyncFailure(err);
      }
      for (const c of covered) failed ? c.fail(failed) : c.settle();
      if (failed) for (const c of unsynced.splice(0)) c.fail(failed);
      startSync();
    });
  }

  function flush() {
    scheduled = false;
    if (retry) return; // waiting for another process's lock: the retry takes what is queued
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    if (failed) {
      for (const item of batch) item.reject(failed);
      return;
    }
    const outcomes: Outcome[] = [];
    try {
      noBusyWait.get();
      try {
        runBatch(batch, outcomes);
      } finally {
        busyWait.get();
      }
    } catch (err) {
      const now = performance.now();
      const busy = String((err as { code?: string }).code).startsWith('SQLITE_BUSY') && outcomes.length === 0;
      if (busy && busySince === null) busySince = now;
      const waited = now - (busySince ?? now);
      if (busy && waited < busyTimeoutMs) {
        // Another process holds the write lock: try again shortly, with whatever arrives meanwhile.
        queue = batch.concat(queue);
        retry = setTimeout(
          () => {
            retry = null;
            flush();
          },
          Math.min(16, Math.max(1, waited / 4), busyTimeoutMs - waited),
        );
        return;
      }
      busySince = null;
      // The lock never came, or the commit itself failed (disk full, I/O error): nothing of the batch is on disk.
      const e = mapError(err);
      for (const item of batch) item.reject(e);
      return settleIdle();
    }
    busySince = null;
    stats.commits += 1;
    stats.writes += batch.length;
    const settle = () =>
      batch.forEach((item, i) => {
        const o = outcomes[i]!;
        if (o.ok) item.resolve(o.value);
        else item.reject(o.error);
      });
    if (!sync) {
      settle();
      return settleIdle();
    }
    unsynced.push({
      settle,
      fail: (e) => {
        for (const item of batch) item.reject(e);
      },
    });
    startSync();
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
    failure: () => failed,
    drain() {
      flush();
      if (!syncing && unsynced.length === 0 && !retry) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
