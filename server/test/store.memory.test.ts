// The fast tier's in-memory store is held to the same contract as the databases.
import { runStoreContract } from './store-contract';
import { createMemoryStore, type MemoryStore, type MemoryTable } from './support/memory-store';

runStoreContract(
  'in memory (the fast tier)',
  async () => createMemoryStore(),
  (store) => ({
    failWritesTo: (target) => (store as MemoryStore).failWritesTo(target as MemoryTable),
    clear: () => (store as MemoryStore).clearFaults(),
  }),
);
