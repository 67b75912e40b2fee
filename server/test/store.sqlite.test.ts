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
});
