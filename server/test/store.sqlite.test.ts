import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/storage/sqlite';
import { StoreUnavailableError } from '../src/domain/errors';
import { runStoreContract } from './store-contract';
import { tempDir } from './helpers';

runStoreContract('SQLite (file, WAL)', async () => createSqliteStore({ filename: path.join(tempDir(), 'store.sqlite') }));

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
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => store.upsertUser({ openid: `oGROUP${i}`, unionid: null, sessionKey: 'v1:x', now: i })));
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
});
