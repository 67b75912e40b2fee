// The MongoDB adapter's contract where no MongoDB server runs (here, CI): every query and update as
// mongoose casts, sanitizes and sends it, run by mingo (support/mingo-connection.ts says what that
// leaves to a real server, where store.mongo.test.ts runs the same contract).
import { describe, expect, it } from 'vitest';
import { MongoDeploymentError, openMongoStore } from '../src/storage/mongo';
import { runStoreContract, type FaultTarget } from './store-contract';
import { createMingoConnection, type MingoConnection } from './support/mingo-connection';

const COLLECTIONS: Record<FaultTarget, string> = {
  orders: 'orders',
  attempts: 'paymentattempts',
  payments: 'payments',
  refunds: 'refunds',
  notifications: 'notifications',
};
const connections = new WeakMap<object, MingoConnection>();

runStoreContract(
  'MongoDB adapter, queries as mongoose sends them, run by mingo',
  async () => {
    const mingo = createMingoConnection();
    const store = await openMongoStore(mingo.connection);
    connections.set(store, mingo);
    return store;
  },
  (store) => ({
    failWritesTo: (target) => connections.get(store)!.failWritesTo(COLLECTIONS[target]),
    clear: () => connections.get(store)!.clearFaults(),
  }),
);

describe('MongoDB adapter on a deployment without transactions', () => {
  it('refuses a standalone server at start, saying what to run instead', async () => {
    const standalone = createMingoConnection({ isWritablePrimary: true });
    const err = await openMongoStore(standalone.connection).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoDeploymentError);
    expect((err as Error).message).toMatch(/replica set.*--replSet rs0.*rs\.initiate\(\)/);
  });
});
