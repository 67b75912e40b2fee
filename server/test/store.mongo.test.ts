import { afterAll, describe, expect, it } from 'vitest';
import { createMongoStore } from '../src/storage/mongo';
import { StoreUnavailableError } from '../src/domain/errors';
import { mongoConnectionOf } from '../src/storage/mongo/connection';
import { runStoreContract, type FaultTarget } from './store-contract';
import { findMongo } from './mongo-server';

const { mongo, why } = await findMongo();

if (!mongo) {
  console.log(`[skip] MongoDB store contract: ${why}; set MONGODB_URI or put mongod on PATH to run it`);
  describe.skip(`store contract: MongoDB (skipped: ${why})`, () => {
    it('needs a MongoDB server', () => undefined);
  });
} else {
  afterAll(() => mongo.stop());
  const COLLECTIONS: Record<FaultTarget, string> = {
    orders: 'orders',
    attempts: 'paymentattempts',
    payments: 'payments',
    refunds: 'refunds',
    notifications: 'notifications',
  };
  // A validator no document passes: every insert and update of the collection fails on the server itself.
  const validator = (store: Parameters<typeof mongoConnectionOf>[0], target: FaultTarget, rule: object) =>
    mongoConnectionOf(store)!.db!.command({
      collMod: COLLECTIONS[target],
      validator: rule,
      validationLevel: 'strict',
      validationAction: 'error',
    });
  runStoreContract(
    `MongoDB (${why})`,
    () => createMongoStore({ uri: mongo.uri }),
    (store) => {
      const failing = new Set<FaultTarget>();
      return {
        failWritesTo: async (target) => {
          failing.add(target);
          await validator(store, target, { $expr: false });
        },
        clear: async () => {
          for (const target of failing) await validator(store, target, {});
          failing.clear();
        },
      };
    },
  );
}

describe('MongoDB adapter without a server', () => {
  it('fails fast with StoreUnavailableError instead of hanging', async () => {
    const started = Date.now();
    await expect(createMongoStore({ uri: 'mongodb://127.0.0.1:9/none', serverSelectionTimeoutMS: 300 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
