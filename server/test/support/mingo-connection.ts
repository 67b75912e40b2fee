// A mongoose connection whose server is in this process: mongoose builds, casts and sanitizes every
// query exactly as it would for a real server and hands the driver-level collection the final filter,
// update, pipeline and options; here that collection runs them with mingo, a maintained JavaScript
// implementation of MongoDB's query, update and aggregation semantics. Unique indexes (partial ones
// included) are enforced as the server does, E11000 and all; transactions commit or roll back.
//
// What this does not reproduce (only a real server checks it): concurrency between connections and
// processes (each operation here is atomic, transactions run one at a time, and a read outside a
// transaction sees a running transaction's writes), write concerns, failover and retryable writes,
// network errors other than the ones injected, and any operator mingo implements differently from the
// server.
import mongoose, { type Connection } from 'mongoose';
import { find, Aggregator, Query, updateOne as mingoUpdateOne } from 'mingo';
import { CONNECTION_OPTIONS } from '../../src/storage/mongo';

type Doc = Record<string, unknown>;
type Filter = Record<string, unknown>;
interface Index {
  name: string;
  keys: string[];
  unique: boolean;
  partial: Query | null;
}
interface Undo {
  collection: MingoCollection;
  id: unknown;
  before: Doc | null;
}

/** Copies plain objects and arrays; other objects (ObjectId, Date) are immutable here and kept as they are. */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(Object.entries(v as Doc).map(([k, x]) => [k, clone(x)])) as T;
  return v;
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const idKey = (id: unknown) => (typeof id === 'string' ? `s:${id}` : `o:${String(id)}`);

export class DuplicateKey extends Error {
  readonly code = 11000;
  constructor(
    collection: string,
    index: string,
    readonly keyValue: Doc,
  ) {
    super(`E11000 duplicate key error collection: mingo.${collection} index: ${index} dup key: ${JSON.stringify(keyValue)}`);
    this.name = 'MongoServerError';
  }
}

class MingoSession {
  readonly undo: Undo[] = [];
  private active = false;
  hasEnded = false;
  constructor(private readonly server: MingoServer) {}
  inTransaction() {
    return this.active;
  }
  get transaction() {
    return { isActive: this.active, options: {} };
  }
  async withTransaction<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.server.lock();
    this.active = true;
    try {
      const result = await fn();
      this.undo.length = 0;
      return result;
    } catch (err) {
      for (const u of this.undo.reverse()) u.collection.restore(u.id, u.before);
      this.undo.length = 0;
      throw err;
    } finally {
      this.active = false;
      release();
    }
  }
  async endSession() {
    this.hasEnded = true;
  }
}

class MingoCollection {
  readonly docs: Doc[] = [];
  readonly indexes: Index[] = [];
  constructor(
    readonly name: string,
    private readonly server: MingoServer,
  ) {}

  /** Writes to a failing collection fail, as a lost primary would fail them. */
  private fault() {
    if (this.server.failing.has(this.name))
      throw Object.assign(new Error(`injected fault writing ${this.name}`), { name: 'MongoServerError', code: 8000 });
  }
  private at(id: unknown) {
    return this.docs.findIndex((d) => idKey(d._id) === idKey(id));
  }
  /** Puts a document back as it was before a write (null: it did not exist). */
  restore(id: unknown, before: Doc | null) {
    const i = this.at(id);
    if (before === null) {
      if (i >= 0) this.docs.splice(i, 1);
    } else if (i >= 0) this.docs[i] = before;
    else this.docs.push(before);
  }
  /** Writes `next` in place of the document with `id` (or adds it), checking unique indexes; undoable inside a transaction. */
  private put(next: Doc, options: { session?: MingoSession } | undefined) {
    const i = this.at(next._id);
    const before = i >= 0 ? this.docs[i]! : null;
    for (const index of this.indexes.filter((x) => x.unique && x.name !== '_id_')) {
      if (index.partial && !index.partial.test(next)) continue;
      const value = Object.fromEntries(index.keys.map((k) => [k, next[k] ?? null]));
      const clash = this.docs.some(
        (d) =>
          idKey(d._id) !== idKey(next._id) &&
          (!index.partial || index.partial.test(d)) &&
          same(Object.fromEntries(index.keys.map((k) => [k, d[k] ?? null])), value),
      );
      if (clash) throw new DuplicateKey(this.name, index.name, value);
    }
    if (i >= 0) this.docs[i] = next;
    else this.docs.push(next);
    if (options?.session?.inTransaction()) options.session.undo.push({ collection: this, id: next._id, before });
  }
  private remove(id: unknown, options: { session?: MingoSession } | undefined) {
    const i = this.at(id);
    if (i < 0) return;
    const [before] = this.docs.splice(i, 1);
    if (options?.session?.inTransaction()) options.session.undo.push({ collection: this, id, before: before! });
  }
  private matching(filter: Filter, o: { sort?: Doc; skip?: number; limit?: number; projection?: Doc } = {}): Doc[] {
    let c = find(this.docs, filter, o.projection && Object.keys(o.projection).length ? o.projection : undefined);
    if (o.sort && Object.keys(o.sort).length) c = c.sort(o.sort as Record<string, 1 | -1>);
    if (o.skip) c = c.skip(o.skip);
    if (o.limit) c = c.limit(o.limit);
    return (c.all() as Doc[]).map(clone);
  }
  /** A document as the update makes it (an upsert's new document is seeded from the filter's equalities). */
  private updated(doc: Doc, update: Doc | Doc[], inserting: boolean): Doc {
    const next = clone(doc);
    if (Array.isArray(update)) {
      const [out] = new Aggregator(update).run([next]) as Doc[];
      return out!;
    }
    const { $setOnInsert, ...rest } = update as { $setOnInsert?: Doc } & Doc;
    let modifier: Doc = rest;
    if (inserting && $setOnInsert) {
      const { _id, ...onInsert } = $setOnInsert;
      if (_id !== undefined) next._id = _id; // an _id is set by the insert itself, not by an update operator
      modifier = { ...rest, $set: { ...(rest.$set as Doc | undefined), ...onInsert } };
    }
    if (Object.keys(modifier).length) mingoUpdateOne([next], {}, modifier as never);
    return next;
  }
  private seed(filter: Filter): Doc {
    return Object.fromEntries(Object.entries(filter).filter(([k, v]) => !k.startsWith('$') && (v === null || typeof v !== 'object')));
  }

  async insertOne(doc: Doc, options?: { session?: MingoSession }) {
    this.fault();
    if (this.at(doc._id) >= 0) throw new DuplicateKey(this.name, '_id_', { _id: doc._id });
    this.put(clone(doc), options);
    return { acknowledged: true, insertedId: doc._id };
  }
  async findOne(filter: Filter, options?: { sort?: Doc; projection?: Doc }) {
    return this.matching(filter, { ...options, limit: 1 })[0] ?? null;
  }
  find(filter: Filter, options: { sort?: Doc; skip?: number; limit?: number; projection?: Doc } = {}) {
    const docs = this.matching(filter, options);
    return {
      toArray: async () => docs,
      [Symbol.asyncIterator]: async function* () {
        yield* docs;
      },
    };
  }
  async countDocuments(filter: Filter) {
    return this.matching(filter).length;
  }
  async updateOne(filter: Filter, update: Doc | Doc[], options: { upsert?: boolean; session?: MingoSession } = {}) {
    this.fault();
    const [current] = this.matching(filter, { limit: 1 });
    if (!current) {
      if (!options.upsert) return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
      const inserted = this.updated(this.seed(filter), update, true);
      inserted._id ??= new mongoose.Types.ObjectId();
      if (this.at(inserted._id) >= 0) throw new DuplicateKey(this.name, '_id_', { _id: inserted._id }); // as the server: the upsert inserts, and _id is taken
      this.put(inserted, options);
      return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: inserted._id };
    }
    const next = this.updated(current, update, false);
    const changed = !same(next, current);
    if (changed) this.put(next, options);
    return { acknowledged: true, matchedCount: 1, modifiedCount: changed ? 1 : 0, upsertedCount: 0, upsertedId: null };
  }
  async updateMany(filter: Filter, update: Doc | Doc[], options: { session?: MingoSession } = {}) {
    this.fault();
    let modified = 0;
    const all = this.matching(filter);
    for (const d of all) {
      const next = this.updated(d, update, false);
      if (!same(next, d)) {
        this.put(next, options);
        modified += 1;
      }
    }
    return { acknowledged: true, matchedCount: all.length, modifiedCount: modified, upsertedCount: 0, upsertedId: null };
  }
  async findOneAndUpdate(
    filter: Filter,
    update: Doc | Doc[],
    options: {
      upsert?: boolean;
      returnDocument?: 'before' | 'after';
      includeResultMetadata?: boolean;
      session?: MingoSession;
      sort?: Doc;
    } = {},
  ) {
    this.fault();
    const [current] = this.matching(filter, { sort: options.sort, limit: 1 });
    let value: Doc | null;
    if (!current) {
      if (!options.upsert) value = null;
      else {
        const inserted = this.updated(this.seed(filter), update, true);
        inserted._id ??= new mongoose.Types.ObjectId();
        if (this.at(inserted._id) >= 0) throw new DuplicateKey(this.name, '_id_', { _id: inserted._id });
        this.put(inserted, options);
        value = options.returnDocument === 'after' ? clone(inserted) : null;
      }
    } else {
      const next = this.updated(current, update, false);
      if (!same(next, current)) this.put(next, options);
      value = options.returnDocument === 'after' ? clone(next) : current;
    }
    return options.includeResultMetadata ? { value, ok: 1 } : value;
  }
  async deleteOne(filter: Filter, options?: { session?: MingoSession }) {
    this.fault();
    const [d] = this.matching(filter, { limit: 1 });
    if (d) this.remove(d._id, options);
    return { acknowledged: true, deletedCount: d ? 1 : 0 };
  }
  async deleteMany(filter: Filter, options?: { session?: MingoSession }) {
    this.fault();
    const all = this.matching(filter);
    for (const d of all) this.remove(d._id, options);
    return { acknowledged: true, deletedCount: all.length };
  }
  async bulkWrite(ops: { updateOne?: { filter: Filter; update: Doc; upsert?: boolean } }[], options?: { session?: MingoSession }) {
    let upserted = 0;
    for (const op of ops) {
      if (!op.updateOne) throw new Error(`mingo connection: bulkWrite supports updateOne only, got ${Object.keys(op)}`);
      upserted += (
        await this.updateOne(op.updateOne.filter, op.updateOne.update, { upsert: op.updateOne.upsert, session: options?.session })
      ).upsertedCount;
    }
    return { upsertedCount: upserted };
  }
  aggregate(pipeline: Doc[]) {
    const out = new Aggregator(pipeline, { collectionResolver: (name: string) => this.server.collection(name).docs }).run(
      this.docs.map(clone),
    ) as Doc[];
    return { toArray: async () => out };
  }
  async createIndex(keys: Record<string, 1 | -1>, options: { unique?: boolean; name?: string; partialFilterExpression?: Filter } = {}) {
    const name =
      options.name ??
      Object.entries(keys)
        .map(([k, v]) => `${k}_${v}`)
        .join('_');
    if (!this.indexes.some((i) => i.name === name))
      this.indexes.push({
        name,
        keys: Object.keys(keys),
        unique: Boolean(options.unique),
        partial: options.partialFilterExpression ? new Query(options.partialFilterExpression) : null,
      });
    return name;
  }
  async createIndexes(specs: { key: Record<string, 1 | -1>; name?: string; unique?: boolean; partialFilterExpression?: Filter }[]) {
    return Promise.all(specs.map((s) => this.createIndex(s.key, s)));
  }
  async listIndexes() {
    return { toArray: async () => this.indexes.map((i) => ({ name: i.name, key: Object.fromEntries(i.keys.map((k) => [k, 1])) })) };
  }
}

class MingoServer {
  readonly collections = new Map<string, MingoCollection>();
  readonly failing = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  constructor(readonly hello: Doc) {}
  collection(name: string): MingoCollection {
    let c = this.collections.get(name);
    if (!c) {
      c = new MingoCollection(name, this);
      this.collections.set(name, c);
    }
    return c;
  }
  /** One transaction at a time. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise<void>((r) => {
      release = r;
    });
    await previous;
    return release;
  }
}

export interface MingoConnection {
  connection: Connection;
  /** Every write to `collection` fails until cleared (inside a transaction, the whole transaction rolls back). */
  failWritesTo(collection: string): void;
  clearFaults(): void;
  /** A collection's documents as stored. */
  documents(collection: string): Doc[];
}

/** A connection configured as the adapter's own (CONNECTION_OPTIONS), served in memory. `hello` answers the
 *  topology question: a replica set member by default, `{}` for a standalone server. */
export function createMingoConnection(hello: Doc = { isWritablePrimary: true, setName: 'mingo' }): MingoConnection {
  const server = new MingoServer(hello);
  const connection = mongoose.createConnection();
  const options = CONNECTION_OPTIONS({});
  Object.assign(connection.config as Record<string, unknown>, {
    bufferCommands: options.bufferCommands,
    autoIndex: options.autoIndex,
    sanitizeFilter: options.sanitizeFilter,
  });
  Object.assign(connection, {
    db: { collection: (name: string) => server.collection(name), command: async (cmd: Doc) => ('hello' in cmd ? server.hello : { ok: 1 }) },
    client: { startSession: () => new MingoSession(server), close: async () => undefined },
  });
  return {
    connection,
    failWritesTo: (collection) => void server.failing.add(collection),
    clearFaults: () => server.failing.clear(),
    documents: (name) => server.collection(name).docs,
  };
}
