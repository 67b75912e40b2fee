// MongoDB via mongoose, used when MONGODB_URI is set. Stateless API instances share it.
// Transitions are findOneAndUpdate/updateOne with the expected status in the filter.
import crypto from 'node:crypto';
import mongoose, { Schema, type Connection } from 'mongoose';
import type { Product } from '../../domain/catalog';
import { DuplicateKeyError, StoreUnavailableError } from '../../domain/errors';
import type { NotificationRecord } from '../../domain/notification';
import type { Order, PaymentAttempt } from '../../domain/order';
import type { User } from '../../domain/user';
import type { Store } from '../port';

export interface MongoStoreOptions {
  uri: string;
  /** Fail fast when no server is reachable instead of buffering forever. */
  serverSelectionTimeoutMS?: number;
}

function mapError(err: unknown): unknown {
  const e = err as { code?: number; name?: string; message?: string; keyPattern?: Record<string, unknown> };
  if (e.code === 11000) {
    const k = Object.keys(e.keyPattern ?? {}).join(',') + (e.message ?? '');
    if (k.includes('idempotencyKey')) return new DuplicateKeyError('idempotency_key');
    if (k.includes('outTradeNo')) return new DuplicateKeyError('out_trade_no');
    if (k.includes('openid')) return new DuplicateKeyError('openid');
    if (k.includes('notifications')) return new DuplicateKeyError('notification_id');
    return new DuplicateKeyError('other');
  }
  if (e.name && /MongoServerSelectionError|MongoNetworkError|MongoNotConnectedError|MongooseServerSelectionError|MongoTimeoutError/.test(e.name)) {
    return new StoreUnavailableError(err);
  }
  return err;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err);
  }
}

const lineSchema = new Schema({ sku: String, name: String, unitPrice: Number, quantity: Number, lineTotal: Number }, { _id: false });

function defineModels(conn: Connection) {
  const users = conn.model(
    'User',
    new Schema({ _id: String, openid: { type: String, required: true, unique: true }, unionid: String, sessionKey: String, createdAt: Number }, { versionKey: false }),
  );
  const sessions = conn.model(
    'Session',
    new Schema({ _id: String, userId: { type: String, index: true }, expiresAt: Number }, { versionKey: false }),
  );
  const products = conn.model(
    'Product',
    new Schema({ _id: String, name: String, description: String, price: Number, currency: String, maxQuantity: Number, position: Number }, { versionKey: false }),
  );
  const orderSchema = new Schema(
    {
      _id: String,
      userId: { type: String, required: true },
      lines: [lineSchema],
      total: Number,
      currency: String,
      description: String,
      status: { type: String, enum: ['PENDING', 'PAID', 'CLOSED'] },
      outTradeNo: { type: String, required: true, unique: true },
      payDeadline: Number,
      idempotencyKey: { type: String, default: null },
      requestHash: { type: String, default: null },
      transactionId: { type: String, default: null },
      paidAt: { type: Number, default: null },
      closedAt: { type: Number, default: null },
      paidAfterClose: { type: Boolean, default: false },
      leaseOwner: { type: String, default: null },
      leaseUntil: { type: Number, default: null },
      createdAt: Number,
      updatedAt: Number,
    },
    { versionKey: false },
  );
  orderSchema.index({ userId: 1, idempotencyKey: 1 }, { unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } });
  orderSchema.index({ userId: 1, createdAt: -1 });
  orderSchema.index({ status: 1, createdAt: 1 });
  const orders = conn.model('Order', orderSchema);
  const attempts = conn.model(
    'PaymentAttempt',
    new Schema(
      { _id: String, orderId: { type: String, index: true }, requestBody: String, prepayId: { type: String, default: null }, prepayExpiresAt: { type: Number, default: null }, createdAt: Number },
      { versionKey: false },
    ),
  );
  const notifications = conn.model(
    'Notification',
    new Schema(
      { _id: String, eventType: String, outTradeNo: String, transactionId: String, outcome: String, detail: String, requestId: String, firstReceivedAt: Number, lastReceivedAt: Number, deliveries: Number },
      { versionKey: false },
    ),
  );
  const rejected = conn.model(
    'RejectedNotification',
    new Schema({ receivedAt: Number, reason: String, serial: String, requestId: String, bodySha256: String }, { versionKey: false }),
  );
  return { users, sessions, products, orders, attempts, notifications, rejected };
}

type Doc = Record<string, unknown> & { _id: string };

const toOrder = (d: Doc): Order => ({
  id: d._id,
  userId: d.userId as string,
  lines: (d.lines as Order['lines']).map((l) => ({ sku: l.sku, name: l.name, unitPrice: l.unitPrice, quantity: l.quantity, lineTotal: l.lineTotal })),
  total: d.total as number,
  currency: 'CNY',
  description: d.description as string,
  status: d.status as Order['status'],
  outTradeNo: d.outTradeNo as string,
  payDeadline: d.payDeadline as number,
  idempotencyKey: (d.idempotencyKey as string | null) ?? null,
  requestHash: (d.requestHash as string | null) ?? null,
  transactionId: (d.transactionId as string | null) ?? null,
  paidAt: (d.paidAt as number | null) ?? null,
  closedAt: (d.closedAt as number | null) ?? null,
  paidAfterClose: Boolean(d.paidAfterClose),
  createdAt: d.createdAt as number,
  updatedAt: d.updatedAt as number,
});

const toAttempt = (d: Doc): PaymentAttempt => ({
  outTradeNo: d._id,
  orderId: d.orderId as string,
  requestBody: d.requestBody as string,
  prepayId: (d.prepayId as string | null) ?? null,
  prepayExpiresAt: (d.prepayExpiresAt as number | null) ?? null,
  createdAt: d.createdAt as number,
});

const toNotification = (d: Doc): NotificationRecord => ({
  id: d._id,
  eventType: d.eventType as string,
  outTradeNo: (d.outTradeNo as string | null) ?? null,
  transactionId: (d.transactionId as string | null) ?? null,
  outcome: d.outcome as NotificationRecord['outcome'],
  detail: (d.detail as string | null) ?? null,
  requestId: (d.requestId as string | null) ?? null,
  firstReceivedAt: d.firstReceivedAt as number,
  lastReceivedAt: d.lastReceivedAt as number,
  deliveries: d.deliveries as number,
});

const toUser = (d: Doc): User => ({
  id: d._id,
  openid: d.openid as string,
  unionid: (d.unionid as string | null) ?? null,
  sessionKey: d.sessionKey as string,
  createdAt: d.createdAt as number,
});

export async function createMongoStore(opts: MongoStoreOptions): Promise<Store> {
  const conn = mongoose.createConnection(opts.uri, {
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 1500,
    bufferCommands: false,
    autoIndex: true,
  });
  try {
    await conn.asPromise();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new StoreUnavailableError(err);
  }
  const m = defineModels(conn);
  await Promise.all(Object.values(m).map((model) => model.syncIndexes()));
  const lean = <T>(q: { lean(): { exec(): Promise<T> } }) => q.lean().exec();

  return {
    kind: 'mongodb',
    upsertUser: ({ openid, unionid, sessionKey, now }) =>
      guard(async () => {
        const d = (await lean(
          m.users.findOneAndUpdate(
            { openid },
            { $set: { sessionKey, ...(unionid ? { unionid } : {}) }, $setOnInsert: { _id: `u_${crypto.randomUUID()}`, createdAt: now } },
            { upsert: true, returnDocument: 'after' },
          ),
        )) as Doc;
        return toUser(d);
      }),
    findUserById: (id) => guard(async () => {
      const d = (await lean(m.users.findById(id))) as Doc | null;
      return d ? toUser(d) : null;
    }),
    createSession: (s) => guard(async () => void (await m.sessions.create({ _id: s.tokenHash, userId: s.userId, expiresAt: s.expiresAt }))),
    findSession: (tokenHash) => guard(async () => {
      const d = (await lean(m.sessions.findById(tokenHash))) as Doc | null;
      return d ? { tokenHash: d._id, userId: d.userId as string, expiresAt: d.expiresAt as number } : null;
    }),
    deleteSession: (tokenHash) => guard(async () => void (await m.sessions.deleteOne({ _id: tokenHash }))),
    listProducts: () => guard(async () => {
      const docs = (await lean(m.products.find().sort({ position: 1 }))) as Doc[];
      return docs.map((d): Product => ({ sku: d._id, name: d.name as string, description: d.description as string, price: d.price as number, currency: 'CNY', maxQuantity: d.maxQuantity as number }));
    }),
    seedProducts: (products) => guard(async () => {
      await m.products.bulkWrite(
        products.map((p, position) => ({
          updateOne: { filter: { _id: p.sku }, update: { $setOnInsert: { name: p.name, description: p.description, price: p.price, currency: p.currency, maxQuantity: p.maxQuantity, position } }, upsert: true },
        })),
      );
    }),
    insertOrder: (order, attempt) => guard(async () => {
      // Attempt first: an orphan attempt is harmless, an order without its attempt is not.
      await m.attempts.create({ _id: attempt.outTradeNo, orderId: attempt.orderId, requestBody: attempt.requestBody, prepayId: null, prepayExpiresAt: null, createdAt: attempt.createdAt });
      try {
        const { id, ...rest } = order;
        await m.orders.create({ _id: id, ...rest });
      } catch (err) {
        await m.attempts.deleteOne({ _id: attempt.outTradeNo }).catch(() => undefined);
        throw err;
      }
    }),
    findOrder: (id) => guard(async () => {
      const d = (await lean(m.orders.findById(id))) as Doc | null;
      return d ? toOrder(d) : null;
    }),
    findOrderByIdempotencyKey: (userId, key) => guard(async () => {
      const d = (await lean(m.orders.findOne({ userId, idempotencyKey: key }))) as Doc | null;
      return d ? toOrder(d) : null;
    }),
    listOrdersByUser: (userId, limit) => guard(async () => ((await lean(m.orders.find({ userId }).sort({ createdAt: -1, _id: -1 }).limit(limit))) as Doc[]).map(toOrder)),
    findAttempt: (outTradeNo) => guard(async () => {
      const d = (await lean(m.attempts.findById(outTradeNo))) as Doc | null;
      return d ? toAttempt(d) : null;
    }),
    setPrepay: (outTradeNo, prepayId, prepayExpiresAt) => guard(async () => void (await m.attempts.updateOne({ _id: outTradeNo }, { $set: { prepayId, prepayExpiresAt } }))),
    replaceAttempt: (orderId, previous, attempt, now) => guard(async () => {
      await m.attempts.create({ _id: attempt.outTradeNo, orderId, requestBody: attempt.requestBody, prepayId: null, prepayExpiresAt: null, createdAt: attempt.createdAt });
      const r = await m.orders.updateOne({ _id: orderId, status: 'PENDING', outTradeNo: previous }, { $set: { outTradeNo: attempt.outTradeNo, updatedAt: now } });
      if (r.modifiedCount === 1) return true;
      await m.attempts.deleteOne({ _id: attempt.outTradeNo });
      return false;
    }),
    markPaid: (orderId, u, now) => guard(async () => {
      const r = await m.orders.updateOne({ _id: orderId, status: 'PENDING' }, { $set: { status: 'PAID', transactionId: u.transactionId, paidAt: u.paidAt, updatedAt: now } });
      return r.modifiedCount === 1;
    }),
    markClosed: (orderId, now) => guard(async () => {
      const r = await m.orders.updateOne({ _id: orderId, status: 'PENDING' }, { $set: { status: 'CLOSED', closedAt: now, updatedAt: now } });
      return r.modifiedCount === 1;
    }),
    flagPaidAfterClose: (orderId, u, now) => guard(async () => {
      await m.orders.updateOne({ _id: orderId, status: 'CLOSED' }, [
        { $set: { paidAfterClose: true, transactionId: { $ifNull: ['$transactionId', u.transactionId] }, updatedAt: now } },
      ], { updatePipeline: true });
    }),
    listReconcileCandidates: (createdBefore, now, limit) => guard(async () => {
      const docs = (await lean(
        m.orders
          .find({ status: 'PENDING', createdAt: { $lte: createdBefore }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] })
          .sort({ createdAt: 1 })
          .limit(limit),
      )) as Doc[];
      return docs.map(toOrder);
    }),
    claimOrder: (orderId, owner, leaseUntil, now) => guard(async () => {
      const r = await m.orders.updateOne(
        { _id: orderId, status: 'PENDING', $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] },
        { $set: { leaseOwner: owner, leaseUntil } },
      );
      return r.modifiedCount === 1;
    }),
    releaseOrder: (orderId, owner) => guard(async () => void (await m.orders.updateOne({ _id: orderId, leaseOwner: owner }, { $set: { leaseOwner: null, leaseUntil: null } }))),
    recordNotification: (rec, replaces) => guard(async () => {
      const { id, ...rest } = rec;
      const upgrade = { $in: ['$outcome', { $literal: [...replaces] }] };
      const d = (await lean(
        m.notifications.findOneAndUpdate(
          { _id: id },
          [
            {
              $set: {
                eventType: { $ifNull: ['$eventType', { $literal: rest.eventType }] },
                outTradeNo: { $ifNull: ['$outTradeNo', { $literal: rest.outTradeNo }] },
                transactionId: { $ifNull: ['$transactionId', { $literal: rest.transactionId }] },
                requestId: { $ifNull: ['$requestId', { $literal: rest.requestId }] },
                firstReceivedAt: { $ifNull: ['$firstReceivedAt', { $literal: rest.firstReceivedAt }] },
                lastReceivedAt: { $literal: rest.lastReceivedAt },
                deliveries: { $add: [{ $ifNull: ['$deliveries', 0] }, 1] },
                outcome: { $cond: [{ $or: [{ $eq: [{ $type: '$outcome' }, 'missing'] }, upgrade] }, { $literal: rest.outcome }, '$outcome'] },
                detail: { $cond: [{ $or: [{ $eq: [{ $type: '$outcome' }, 'missing'] }, upgrade] }, { $literal: rest.detail }, '$detail'] },
              },
            },
          ],
          { upsert: true, returnDocument: 'after', updatePipeline: true },
        ),
      )) as Doc;
      const record = toNotification(d);
      return { record, duplicate: record.deliveries > 1 };
    }),
    findNotification: (id) => guard(async () => {
      const d = (await lean(m.notifications.findById(id))) as Doc | null;
      return d ? toNotification(d) : null;
    }),
    recordRejectedNotification: (x) => guard(async () => void (await m.rejected.create(x))),
    countRejectedNotifications: () => guard(() => m.rejected.countDocuments().exec()),
    close: () => guard(() => conn.close()),
  };
}
