import { afterAll, describe, expect, it } from 'vitest';
import { createMongoStore } from '../src/storage/mongo';
import { StoreUnavailableError } from '../src/domain/errors';
import { runStoreContract } from './store-contract';
import { findMongo } from './mongo-server';

const { mongo, why } = await findMongo();

if (!mongo) {
  console.log(`[skip] MongoDB store contract: ${why}; set MONGODB_URI or put mongod on PATH to run it`);
  describe.skip(`store contract: MongoDB (skipped: ${why})`, () => {
    it('needs a MongoDB server', () => undefined);
  });
} else {
  afterAll(() => mongo.stop());
  runStoreContract(`MongoDB (${why})`, () => createMongoStore({ uri: mongo.uri }));
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
