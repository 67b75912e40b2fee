// The MongoDB connection behind a store, for infrastructure that shares it (the rate limiters);
// null for other stores. Kept beside the adapter so the port does not mention a driver.
import type { Connection } from 'mongoose';
import type { Store } from '../../domain/ports/store';

const connections = new WeakMap<Store, Connection>();

export const rememberConnection = (store: Store, connection: Connection) => void connections.set(store, connection);
export const mongoConnectionOf = (store: Store): Connection | null => connections.get(store) ?? null;
