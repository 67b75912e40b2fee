import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/storage/sqlite';
import { createGroupCommit } from '../src/storage/sqlite/group-commit';
import { StoreUnavailableError } from '../src/domain/errors';
import { runStoreContract, type FaultTarget } from './store-contract';
import { tempDir } from './helpers';

const TABLES: Record<FaultTarget, string> = {
  orders: 'orders',
  attempts: 'payment_attempts',
  payments: 'payments',
  refunds: 'refunds',
  notifications: 'notifications',
};
const files = new WeakMap<object, string>();
/** Faults the way a disk gives them, from another connection to the same file: triggers that abort every write to a table. */
const triggers = (file: string) => ({
  failWritesTo(target: FaultTarget) {
    const db = new Database(file);
    for (const when of ['INSERT', 'UPDATE'])
      db.exec(
        `CREATE TRIGGER IF NOT EXISTS fault_${target}_${when} BEFORE ${when} ON ${TABLES[target]} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
      );
    db.close();
  },
  clear() {
    const db = new Database(file);
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fault_%'").all() as {
      name: string;
    }[])
      db.exec(`DROP TRIGGER ${name}`);
    db.close();
  },
});

runStoreContract(
  'SQLite (file, WAL)',
  async () => {
    const file = path.join(tempDir(), 'store.sqlite');
    const store = createSqliteStore({ filename: file });
    files.set(store, file);
    return store;
  },
  (store) => triggers(files.get(store)!),
);

describe('SQLite adapter only', () => {
  it('leaves the database file in WAL mode', async () => {
    const file = path.join(tempDir(), 'pragmas.sqlite');
    const store = createSqliteStore({ filename: file });
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('turns a closed database into StoreUnavailableError', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.close();
    await expect(store.listProducts()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('commits the writes of one turn together, each answered after the commit, a failing one alone', async () => {
    const store = createSqliteStore({ filename: path.join(tempDir(), 'group.sqlite') });
    const before = store.commitStats!();
    const users = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.upsertUser({ openid: `oGROUP${i}`, unionid: null, sessionKey: 'v1:x', now: i })),
    );
    const after = store.commitStats!();
    expect(after.writes - before.writes).toBe(20);
    expect(after.commits - before.commits).toBe(1); // twenty writes, one fsync
    // In one batch: a write that fails (a duplicate key) and two that succeed.
    const { makeOrder } = await import('./store-contract');
    const a = makeOrder(users[0]!.id);
    await store.insertOrder(a.order, a.attempt);
    const results = await Promise.allSettled([
      store.createSession({ tokenHash: 'batch-1', userId: users[0]!.id, expiresAt: 10 }),
      store.insertOrder(a.order, a.attempt),
      store.createSession({ tokenHash: 'batch-2', userId: users[0]!.id, expiresAt: 10 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'DuplicateKeyError' });
    expect(await store.findSession('batch-1')).not.toBeNull();
    expect(await store.findSession('batch-2')).not.toBeNull();
    await store.close();
  });

  it('answers a write only after the WAL sync that covers it; commits made during a sync share the next one', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const syncs: ((err: Error | null) => void)[] = [];
    const gc = createGroupCommit(
      db,
      (e) => e,
      (done) => void syncs.push(done),
    );
    const answered: number[] = [];
    const write = (v: number) => gc.write(() => db.prepare('INSERT INTO t VALUES (?)').run(v)).then(() => answered.push(v));
    const first = [write(1), write(2)];
    await new Promise((r) => setImmediate(r));
    expect(syncs).toHaveLength(1); // committed, syncing
    const second = [write(3)];
    await new Promise((r) => setImmediate(r));
    const third = [write(4)];
    await new Promise((r) => setImmediate(r));
    expect(gc.stats()).toMatchObject({ commits: 3, writes: 4 });
    expect(syncs).toHaveLength(1); // one sync at a time
    expect(answered).toEqual([]); // committed (readers see it), but nobody is answered before the disk
    syncs[0]!(null);
    await Promise.all(first);
    expect(answered).toEqual([1, 2]);
    expect(syncs).toHaveLength(2); // the next sync covers both commits made meanwhile
    syncs[1]!(null);
    await Promise.all([...second, ...third]);
    expect(answered).toEqual([1, 2, 3, 4]);
    expect(gc.stats()).toMatchObject({ commits: 3, writes: 4, syncs: 2 });
  });

  it('fails the callers of a failed sync, and every write after it (fail-stop)', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const syncs: ((err: Error | null) => void)[] = [];
    const failures: Error[] = [];
    const gc = createGroupCommit(
      db,
      (e) => e,
      (done) => void syncs.push(done),
      (e) => failures.push(e),
    );
    const a = gc.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    await new Promise((r) => setImmediate(r));
    const b = gc.write(() => db.prepare('INSERT INTO t VALUES (2)').run());
    await new Promise((r) => setImmediate(r));
    syncs[0]!(new Error('EIO: i/o error, fdatasync'));
    await expect(a).rejects.toThrow(/EIO/);
    await expect(b).rejects.toThrow(/EIO/); // committed after, waiting for a sync that can no longer be trusted
    await expect(gc.write(() => 1)).rejects.toThrow(/EIO/);
    expect(failures).toHaveLength(1);
  });

  it('after a failed WAL sync answers nothing, reads included, so health fails and the process is restarted', async () => {
    const failing = (done: (err: Error | null) => void) =>
      setImmediate(() => done(new StoreUnavailableError(new Error('EIO: i/o error, fdatasync'))));
    const store = createSqliteStore({ filename: path.join(tempDir(), 'failsync.sqlite'), syncWal: failing });
    expect(await store.listProducts()).toEqual([]);
    await expect(store.upsertUser({ openid: 'oFAIL', unionid: null, sessionKey: 'v1:x', now: 1 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.listProducts()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.findUserById('u')).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close();
  });

  // Two connections to one file stand in for two cluster workers: SQLite locks between connections
  // of one process as it does between processes.
  const twoConnections = (name: string) => {
    const file = path.join(tempDir(), name);
    const mine = new Database(file);
    mine.pragma('journal_mode = WAL');
    mine.pragma('busy_timeout = 5000');
    mine.exec('CREATE TABLE t (v INTEGER)');
    const other = new Database(file);
    other.pragma('busy_timeout = 0');
    return { mine, other };
  };

  it("with another process on the file, a batch that reads before it writes is not failed by the other's commit", async () => {
    const { mine, other } = twoConnections('snapshot.sqlite');
    const gc = createGroupCommit(mine, (e) => e, null);
    let theOther = '';
    const written = gc.write(() => {
      mine.prepare('SELECT COUNT(*) FROM t').get(); // the batch reads first…
      try {
        other.prepare('INSERT INTO t VALUES (2)').run(); // …another worker commits meanwhile…
        theOther = 'committed';
      } catch (err) {
        theOther = (err as { code: string }).code;
      }
      return mine.prepare('INSERT INTO t VALUES (1)').run().changes; // …then the batch writes
    });
    await expect(written).resolves.toBe(1);
    expect(theOther).toBe('SQLITE_BUSY'); // the batch held the write lock from its start: the other waited
    mine.close();
    other.close();
  });

  it("waits for another process's write lock without blocking the event loop, up to the busy timeout", async () => {
    const { mine, other } = twoConnections('busy.sqlite');
    const gc = createGroupCommit(mine, (e) => e, null);
    other.prepare('BEGIN IMMEDIATE').run(); // another worker is writing
    const events: string[] = [];
    const written = gc
      .write(() => mine.prepare('INSERT INTO t VALUES (1)').run().changes)
      .then((n) => {
        events.push('written');
        return n;
      });
    // Released by a timer on this same event loop: a connection that slept in SQLite's busy handler
    // would hold the loop until its timeout and fail with SQLITE_BUSY.
    setTimeout(() => {
      other.prepare('COMMIT').run();
      events.push('released');
    }, 50);
    await new Promise((r) => setImmediate(r)); // the batch has found the lock taken
    const drained = gc.drain().then(() => events.push('drained')); // as at close: waits for the retry
    await expect(written).resolves.toBe(1);
    await drained;
    expect(events).toEqual(['released', 'written', 'drained']);
    mine.close();
    other.close();
  });

  it('fails a batch with SQLITE_BUSY once another process has held the write lock past the busy timeout', async () => {
    const { mine, other } = twoConnections('stuck.sqlite');
    mine.pragma('busy_timeout = 100');
    const gc = createGroupCommit(mine, (e) => e, null);
    other.prepare('BEGIN IMMEDIATE').run();
    const started = performance.now();
    await expect(gc.write(() => mine.prepare('INSERT INTO t VALUES (1)').run())).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    other.prepare('COMMIT').run();
    await expect(gc.write(() => mine.prepare('INSERT INTO t VALUES (2)').run().changes)).resolves.toBe(1); // and goes on once it is free
    mine.close();
    other.close();
  });

  it('adds to an older file the columns it lacks when it opens it', async () => {
    const file = path.join(tempDir(), 'older.sqlite');
    await createSqliteStore({ filename: file }).close();
    const old = new Database(file);
    old.exec('ALTER TABLE orders DROP COLUMN review_reason'); // as a file from before the column
    old.close();
    await createSqliteStore({ filename: file }).close();
    const db = new Database(file);
    expect((db.prepare('PRAGMA table_info(orders)').all() as { name: string }[]).map((c) => c.name)).toContain('review_reason');
    db.close();
  });

  it('runs a file database at synchronous=NORMAL and syncs the WAL itself', async () => {
    const file = path.join(tempDir(), 'sync.sqlite');
    const store = createSqliteStore({ filename: file });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.upsertUser({ openid: `oSYNC${i}`, unionid: null, sessionKey: 'v1:x', now: i })),
    );
    expect(store.commitStats!()).toMatchObject({ writes: 5, commits: 1, syncs: 1 });
    await store.close();
    const db = new Database(file);
    expect(db.prepare('SELECT COUNT(*) AS n FROM users').get()).toEqual({ n: 5 });
    db.close();
  });
});
