// MongoDB via mongoose, used when MONGODB_URI is set. Stateless API instances share it.
// Transitions are findOneAndUpdate/updateOne with the expected status in the filter.
import crypto from 'node:crypto';
import mongoose, { Schema, type Connection } from 'mongoose';
import type { Product } from '../../domain/catalog';
import { DuplicateKeyError, StoreUnavailableError } from '../../domain/errors';
import type { NotificationOutcome, NotificationRecord } from '../../domain/notification';
import type { Order, PaymentAttempt } from '../../domain/order';
import type { PaymentRecord, Refund } from '../../domain/refund';
import type { User } from '../../domain/user';
import type { Shipment } from '../../domain/shipment';
import type { Store } from '../port';
import { rememberConnection } from './connection';

export interface MongoStoreOptions {
  uri: string;
  /** Fail fast when no server is reachable instead of buffering forever. */
  serverSelectionTimeoutMS?: number;
}

/**
 * How the adapter connects: filters are sanitized (a value that is an object cannot act as an
 * operator; the adapter's own operators are marked trusted), and every write is acknowledged by a
 * majority of the replica set and journaled, so a PAID answered 204 cannot roll back on failover.
 */
export const CONNECTION_OPTIONS = (o: { serverSelectionTimeoutMS?: number }) => ({
  serverSelectionTimeoutMS: o.serverSelectionTimeoutMS ?? 1500,
  bufferCommands: false,
  autoIndex: false,
  sanitizeFilter: true,
  retryWrites: true,
  writeConcern: { w: 'majority' as const, journal: true },
});

/** Our own operators in a filter, exempt from sanitizeFilter. */
const t = <T extends object>(operator: T): T => mongoose.trusted(operator) as T;

/** Server error codes that mean "not now": failover, shutdown, unreachable hosts, write concern not met. */
const UNAVAILABLE_CODES = new Set([6, 7, 64, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const UNAVAILABLE_NAMES =
  /^(MongoServerSelectionError|MongooseServerSelectionError|MongoNetworkError|MongoNetworkTimeoutError|MongoNotConnectedError|MongoTopologyClosedError|MongoPoolClosedError|MongoServerClosedError|MongoWriteConcernError|MongoTimeoutError|MongoWaitQueueTimeoutError)$/;

/** Driver errors become the domain's: DuplicateKeyError, StoreUnavailableError (a retry may succeed), or themselves. */
export function mapError(err: unknown): unknown {
  const e = err as {
    code?: number;
    name?: string;
    message?: string;
    keyPattern?: Record<string, unknown>;
    errorLabels?: string[];
    writeConcernError?: unknown;
    errorLabelSet?: Set<string>;
  };
  if (e.code === 11000) {
    const k = Object.keys(e.keyPattern ?? {}).join(',') + (e.message ?? '');
    if (k.includes('idempotencyKey')) return new DuplicateKeyError('idempotency_key');
    if (k.includes('outRefundNo')) return new DuplicateKeyError('out_refund_no');
    if (k.includes('outTradeNo')) return new DuplicateKeyError('out_trade_no');
    if (k.includes('openid')) return new DuplicateKeyError('openid');
    if (k.includes('notifications')) return new DuplicateKeyError('notification_id');
    return new DuplicateKeyError('other');
  }
  const labels = [...(e.errorLabels ?? []), ...(e.errorLabelSet ?? [])];
  if (
    (e.name && UNAVAILABLE_NAMES.test(e.name)) ||
    (typeof e.code === 'number' && UNAVAILABLE_CODES.has(e.code)) ||
    labels.some((l) => l === 'RetryableWriteError' || l === 'TransientTransactionError' || l === 'ResetPool') ||
    e.writeConcernError
  ) {
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
    new Schema(
      { _id: String, openid: { type: String, required: true, unique: true }, unionid: String, sessionKey: String, createdAt: Number },
      { versionKey: false },
    ),
  );
  const sessions = conn.model(
    'Session',
    new Schema({ _id: String, userId: { type: String, index: true }, expiresAt: Number }, { versionKey: false }),
  );
  const products = conn.model(
    'Product',
    new Schema(
      { _id: String, name: String, description: String, price: Number, currency: String, maxQuantity: Number, position: Number },
      { versionKey: false },
    ),
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
      reviewReason: { type: String, default: null },
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
      {
        _id: String,
        orderId: { type: String, index: true },
        requestBody: String,
        prepayId: { type: String, default: null },
        prepayExpiresAt: { type: Number, default: null },
        createdAt: Number,
      },
      { versionKey: false },
    ),
  );
  // _id is `${id} ${outTradeNo ?? ''}`: an id reused for another order is another notification.
  const notificationSchema = new Schema(
    {
      _id: String,
      notificationId: String,
      eventType: String,
      outTradeNo: String,
      transactionId: String,
      outcome: String,
      detail: String,
      requestId: String,
      firstReceivedAt: Number,
      lastReceivedAt: Number,
      deliveries: Number,
    },
    { versionKey: false },
  );
  notificationSchema.index({ outTradeNo: 1 });
  const notifications = conn.model('Notification', notificationSchema);
  const payments = conn.model(
    'Payment',
    new Schema(
      {
        _id: String,
        orderId: { type: String, index: true },
        outTradeNo: String,
        amount: Number,
        kind: String,
        paidAt: Number,
        refundReserved: { type: Number, default: 0 },
      },
      { versionKey: false },
    ),
  );
  const refundSchema = new Schema(
    {
      _id: String,
      orderId: String,
      transactionId: String,
      outTradeNo: String,
      outRefundNo: { type: String, required: true, unique: true },
      amount: Number,
      reason: { type: String, default: null },
      status: { type: String, enum: ['PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL'] },
      providerRefundId: { type: String, default: null },
      idempotencyKey: { type: String, default: null },
      failure: { type: String, default: null },
      createdAt: Number,
      updatedAt: Number,
      settledAt: { type: Number, default: null },
    },
    { versionKey: false },
  );
  refundSchema.index({ orderId: 1, idempotencyKey: 1 }, { unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } });
  refundSchema.index({ orderId: 1, createdAt: 1 });
  refundSchema.index({ status: 1, createdAt: 1 });
  const refunds = conn.model('Refund', refundSchema);
  const rejected = conn.model(
    'RejectedNotification',
    new Schema({ receivedAt: Number, reason: String, serial: String, requestId: String, bodySha256: String }, { versionKey: false }),
  );
  // A shipment is one document per order; `doc` holds the domain's record as the domain wrote it.
  const shipmentSchema = new Schema(
    { _id: String, status: String, upload: String, version: Number, doc: String, updatedAt: Number },
    { versionKey: false },
  );
  shipmentSchema.index({ upload: 1, status: 1, updatedAt: 1 });
  const shipments = conn.model('Shipment', shipmentSchema);
  return { users, sessions, products, orders, attempts, notifications, payments, refunds, rejected, shipments };
}

type Doc = Record<string, unknown> & { _id: string };

const toOrder = (d: Doc): Order => ({
  id: d._id,
  userId: d.userId as string,
  lines: (d.lines as Order['lines']).map((l) => ({
    sku: l.sku,
    name: l.name,
    unitPrice: l.unitPrice,
    quantity: l.quantity,
    lineTotal: l.lineTotal,
  })),
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
  reviewReason: (d.reviewReason as string | null) ?? null,
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
  id: (d.notificationId as string | undefined) ?? d._id,
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

const toPayment = (d: Doc): PaymentRecord => ({
  transactionId: d._id,
  orderId: d.orderId as string,
  outTradeNo: d.outTradeNo as string,
  amount: d.amount as number,
  kind: d.kind as PaymentRecord['kind'],
  paidAt: d.paidAt as number,
  refundReserved: (d.refundReserved as number) ?? 0,
});

const toRefund = (d: Doc): Refund => ({
  id: d._id,
  orderId: d.orderId as string,
  transactionId: d.transactionId as string,
  outTradeNo: d.outTradeNo as string,
  outRefundNo: d.outRefundNo as string,
  amount: d.amount as number,
  reason: (d.reason as string | null) ?? null,
  status: d.status as Refund['status'],
  providerRefundId: (d.providerRefundId as string | null) ?? null,
  idempotencyKey: (d.idempotencyKey as string | null) ?? null,
  failure: (d.failure as string | null) ?? null,
  createdAt: d.createdAt as number,
  updatedAt: d.updatedAt as number,
  settledAt: (d.settledAt as number | null) ?? null,
});

const notificationKey = (id: string, outTradeNo: string | null) => `${id} ${outTradeNo ?? ''}`;

const toUser = (d: Doc): User => ({
  id: d._id,
  openid: d.openid as string,
  unionid: (d.unionid as string | null) ?? null,
  sessionKey: d.sessionKey as string,
  createdAt: d.createdAt as number,
});

/** A standalone server refuses transactions with IllegalOperation (20). */
const isNoTransactionSupport = (err: unknown) =>
  (err as { code?: number }).code === 20 || /Transaction numbers are only allowed|replica set/i.test((err as Error).message ?? '');

export async function createMongoStore(opts: MongoStoreOptions): Promise<Store> {
  const conn = mongoose.createConnection(opts.uri, CONNECTION_OPTIONS(opts));
  try {
    await conn.asPromise();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new StoreUnavailableError(err);
  }
  const m = defineModels(conn);
  // createIndexes only adds what is missing: unlike syncIndexes it never drops an index, and
  // instances starting together do not race to rebuild them.
  await guard(() => Promise.all(Object.values(m).map((model) => model.createIndexes())));
  const lean = <T>(q: { lean(): { exec(): Promise<T> } }) => q.lean().exec();
  /** Whether the deployment runs transactions (a replica set or sharded cluster); learned on first use. */
  let transactions: boolean | undefined;

  const recordPayment = async (p: Omit<PaymentRecord, 'refundReserved'>) => {
    const { transactionId, ...rest } = p;
    const r = await m.payments.updateOne({ _id: transactionId }, { $setOnInsert: { ...rest, refundReserved: 0 } }, { upsert: true });
    return r.upsertedCount === 1;
  };
  const recordNotification = async (rec: NotificationRecord, replaces: readonly NotificationOutcome[]) => {
    const { id, ...rest } = rec;
    const key = notificationKey(id, rec.outTradeNo);
    const upgrade = { $in: ['$outcome', { $literal: [...replaces] }] };
    const d = (await lean(
      m.notifications.findOneAndUpdate(
        { _id: key },
        [
          {
            $set: {
              notificationId: { $literal: id },
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
  };
  const store: Store = {
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
    findUserById: (id) =>
      guard(async () => {
        const d = (await lean(m.users.findById(id))) as Doc | null;
        return d ? toUser(d) : null;
      }),
    createSession: (s) => guard(async () => void (await m.sessions.create({ _id: s.tokenHash, userId: s.userId, expiresAt: s.expiresAt }))),
    findSessionUser: async (tokenHash) => {
      const session = await store.findSession(tokenHash);
      const user = session ? await store.findUserById(session.userId) : null;
      return session && user ? { session, user } : null;
    },
    findSession: (tokenHash) =>
      guard(async () => {
        const d = (await lean(m.sessions.findById(tokenHash))) as Doc | null;
        return d ? { tokenHash: d._id, userId: d.userId as string, expiresAt: d.expiresAt as number } : null;
      }),
    deleteSession: (tokenHash) => guard(async () => void (await m.sessions.deleteOne({ _id: tokenHash }))),
    deleteSessionsOfUser: (userId) => guard(async () => (await m.sessions.deleteMany({ userId })).deletedCount),
    purgeExpiredSessions: (now) => guard(async () => (await m.sessions.deleteMany({ expiresAt: t({ $lte: now }) })).deletedCount),
    listProducts: () =>
      guard(async () => {
        const docs = (await lean(m.products.find().sort({ position: 1 }))) as Doc[];
        return docs.map(
          (d): Product => ({
            sku: d._id,
            name: d.name as string,
            description: d.description as string,
            price: d.price as number,
            currency: 'CNY',
            maxQuantity: d.maxQuantity as number,
          }),
        );
      }),
    seedProducts: (products) =>
      guard(async () => {
        await m.products.bulkWrite(
          products.map((p, position) => ({
            updateOne: {
              filter: { _id: p.sku },
              update: {
                $setOnInsert: {
                  name: p.name,
                  description: p.description,
                  price: p.price,
                  currency: p.currency,
                  maxQuantity: p.maxQuantity,
                  position,
                },
              },
              upsert: true,
            },
          })),
        );
      }),
    insertOrder: (order, attempt, lease) =>
      guard(async () => {
        const { id, ...fields } = order;
        const rest = { ...fields, leaseOwner: lease?.owner ?? null, leaseUntil: lease?.until ?? null };
        const attemptDoc = {
          _id: attempt.outTradeNo,
          orderId: attempt.orderId,
          requestBody: attempt.requestBody,
          prepayId: null,
          prepayExpiresAt: null,
          createdAt: attempt.createdAt,
        };
        if (transactions !== false) {
          try {
            await conn.transaction(async (session) => {
              await m.attempts.create([attemptDoc], { session });
              await m.orders.create([{ _id: id, ...rest }], { session });
            });
            transactions = true;
            return;
          } catch (err) {
            if (!isNoTransactionSupport(err)) throw err;
            transactions = false; // a standalone server: fall back to the ordered writes below
          }
        }
        // Attempt first: an orphan attempt is harmless, an order without its attempt is not. It is removed
        // only when the order definitely was not written (a duplicate key or invalid document), never after
        // an ambiguous failure (a timeout, a failover) that may have written it.
        await m.attempts.create(attemptDoc);
        try {
          await m.orders.create({ _id: id, ...rest });
        } catch (err) {
          const definite = (err as { code?: number }).code === 11000 || (err as { name?: string }).name === 'ValidationError';
          if (definite) await m.attempts.deleteOne({ _id: attempt.outTradeNo }).catch(() => undefined);
          throw err;
        }
      }),
    findOrder: (id) =>
      guard(async () => {
        const d = (await lean(m.orders.findById(id))) as Doc | null;
        return d ? toOrder(d) : null;
      }),
    // The order and its records side by side: four queries, one round trip's wait.
    findOrderRecords: async (id) => {
      const [order, payments, refunds, shipment] = await Promise.all([
        store.findOrder(id),
        store.listPayments(id),
        store.listRefunds(id),
        store.findShipment(id),
      ]);
      return order ? { order, payments, refunds, shipment } : null;
    },
    findOrderByIdempotencyKey: (userId, key) =>
      guard(async () => {
        const d = (await lean(m.orders.findOne({ userId, idempotencyKey: key }))) as Doc | null;
        return d ? toOrder(d) : null;
      }),
    listOrdersByUser: (userId, limit) =>
      guard(async () => ((await lean(m.orders.find({ userId }).sort({ createdAt: -1, _id: -1 }).limit(limit))) as Doc[]).map(toOrder)),
    findAttempt: (outTradeNo) =>
      guard(async () => {
        const d = (await lean(m.attempts.findById(outTradeNo))) as Doc | null;
        return d ? toAttempt(d) : null;
      }),
    setPrepay: (outTradeNo, prepayId, prepayExpiresAt, release) =>
      guard(async () => {
        await m.attempts.updateOne({ _id: outTradeNo }, { $set: { prepayId, prepayExpiresAt } });
        if (release) await store.releaseOrder(release.orderId, release.owner);
      }),
    replaceAttempt: (orderId, previous, attempt, now) =>
      guard(async () => {
        await m.attempts.create({
          _id: attempt.outTradeNo,
          orderId,
          requestBody: attempt.requestBody,
          prepayId: null,
          prepayExpiresAt: null,
          createdAt: attempt.createdAt,
        });
        const r = await m.orders.updateOne(
          { _id: orderId, status: 'PENDING', outTradeNo: previous },
          { $set: { outTradeNo: attempt.outTradeNo, updatedAt: now } },
        );
        if (r.modifiedCount === 1) return true;
        await m.attempts.deleteOne({ _id: attempt.outTradeNo });
        return false;
      }),
    // Without a multi-document transaction: the transition first, then its records. A crash in between
    // leaves a PAID order without its payment record; the next delivery of the same payment (ALREADY_PAID)
    // writes it, as before this call took them together.
    markPaid: (orderId, u, now, also) =>
      guard(async () => {
        const r = await m.orders.updateOne(
          { _id: orderId, status: 'PENDING' },
          { $set: { status: 'PAID', transactionId: u.transactionId, paidAt: u.paidAt, updatedAt: now } },
        );
        if (r.modifiedCount !== 1) return false;
        if (also) await recordPayment(also.payment);
        if (also?.notification) await recordNotification(also.notification.record, also.notification.replaces);
        return true;
      }),
    markClosed: (orderId, now) =>
      guard(async () => {
        const r = await m.orders.updateOne(
          { _id: orderId, status: 'PENDING' },
          { $set: { status: 'CLOSED', closedAt: now, updatedAt: now } },
        );
        return r.modifiedCount === 1;
      }),
    flagForReview: (orderId, reason, now) =>
      guard(async () => {
        const r = await m.orders.updateOne({ _id: orderId, reviewReason: null }, { $set: { reviewReason: reason, updatedAt: now } });
        return r.modifiedCount === 1;
      }),
    recordPayment: (p) => guard(() => recordPayment(p)),
    findPayment: (transactionId) =>
      guard(async () => {
        const d = (await lean(m.payments.findById(transactionId))) as Doc | null;
        return d ? toPayment(d) : null;
      }),
    listPayments: (orderId) =>
      guard(async () => ((await lean(m.payments.find({ orderId }).sort({ paidAt: 1, _id: 1 }))) as Doc[]).map(toPayment)),
    insertRefund: (refund) =>
      guard(async () => {
        // The reservation is the conditional write: one document, so concurrent requests cannot overshoot.
        const reserved = await m.payments.updateOne(
          { _id: refund.transactionId, $expr: t({ $lte: [{ $add: ['$refundReserved', { $literal: refund.amount }] }, '$amount'] }) },
          { $inc: { refundReserved: refund.amount } },
        );
        if (reserved.modifiedCount !== 1) return false;
        try {
          const { id, ...rest } = refund;
          await m.refunds.create({ _id: id, ...rest });
        } catch (err) {
          await m.payments.updateOne({ _id: refund.transactionId }, { $inc: { refundReserved: -refund.amount } }).catch(() => undefined);
          throw err;
        }
        return true;
      }),
    moveRefund: (outRefundNo, from, to, fields, release, now) =>
      guard(async () => {
        const set: Record<string, unknown> = { status: to, updatedAt: now };
        for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) set[k] = v;
        const d = (await lean(
          m.refunds.findOneAndUpdate({ outRefundNo, status: t({ $in: [...from] }) }, { $set: set }, { returnDocument: 'after' }),
        )) as Doc | null;
        if (!d) return false;
        if (release) await m.payments.updateOne({ _id: d.transactionId as string }, { $inc: { refundReserved: -(d.amount as number) } });
        return true;
      }),
    setRefundProviderId: (outRefundNo, providerRefundId, now) =>
      guard(
        async () =>
          void (await m.refunds.updateOne({ outRefundNo, providerRefundId: null }, { $set: { providerRefundId, updatedAt: now } })),
      ),
    findRefund: (outRefundNo) =>
      guard(async () => {
        const d = (await lean(m.refunds.findOne({ outRefundNo }))) as Doc | null;
        return d ? toRefund(d) : null;
      }),
    findRefundByIdempotencyKey: (orderId, key) =>
      guard(async () => {
        const d = (await lean(m.refunds.findOne({ orderId, idempotencyKey: key }))) as Doc | null;
        return d ? toRefund(d) : null;
      }),
    listRefunds: (orderId) =>
      guard(async () => ((await lean(m.refunds.find({ orderId }).sort({ createdAt: 1, _id: 1 }))) as Doc[]).map(toRefund)),
    listRefundsInStatus: (status, createdBefore, limit) =>
      guard(async () =>
        (
          (await lean(
            m.refunds
              .find({ status, createdAt: t({ $lte: createdBefore }) })
              .sort({ createdAt: 1 })
              .limit(limit),
          )) as Doc[]
        ).map(toRefund),
      ),
    listOrders: (f) =>
      guard(async () => {
        const filter: Record<string, unknown> = {};
        if (f.status) filter.status = f.status;
        if (f.createdBefore !== undefined) filter.createdAt = t({ $lt: f.createdBefore });
        if (f.refundDue) {
          const due = (await lean(
            m.payments.find({ kind: t({ $ne: 'ORDER' }), $expr: t({ $lt: ['$refundReserved', '$amount'] }) }).select({ orderId: 1 }),
          )) as Doc[];
          filter._id = t({ $in: [...new Set(due.map((d) => d.orderId as string))] });
        }
        return ((await lean(m.orders.find(filter).sort({ createdAt: -1, _id: -1 }).limit(f.limit))) as Doc[]).map(toOrder);
      }),
    listAttempts: (orderId) =>
      guard(async () => ((await lean(m.attempts.find({ orderId }).sort({ createdAt: 1, _id: 1 }))) as Doc[]).map(toAttempt)),
    listNotificationsFor: (outTradeNos) =>
      guard(async () =>
        ((await lean(m.notifications.find({ outTradeNo: t({ $in: [...outTradeNos] }) }).sort({ firstReceivedAt: 1 }))) as Doc[]).map(
          toNotification,
        ),
      ),
    listReconcileCandidates: (createdBefore, now, limit) =>
      guard(async () => {
        const docs = (await lean(
          m.orders
            .find({
              status: 'PENDING',
              reviewReason: null,
              createdAt: t({ $lte: createdBefore }),
              $or: [{ leaseUntil: null }, { leaseUntil: t({ $lt: now }) }],
            })
            .sort({ createdAt: 1 })
            .limit(limit),
        )) as Doc[];
        return docs.map(toOrder);
      }),
    claimOrder: (orderId, owner, leaseUntil, now) =>
      guard(async () => {
        const r = await m.orders.updateOne(
          { _id: orderId, status: 'PENDING', $or: [{ leaseUntil: null }, { leaseUntil: t({ $lt: now }) }] },
          { $set: { leaseOwner: owner, leaseUntil } },
        );
        return r.modifiedCount === 1;
      }),
    releaseOrder: (orderId, owner) =>
      guard(
        async () => void (await m.orders.updateOne({ _id: orderId, leaseOwner: owner }, { $set: { leaseOwner: null, leaseUntil: null } })),
      ),
    recordNotification: (rec, replaces) => guard(() => recordNotification(rec, replaces)),
    findNotification: (id, outTradeNo) =>
      guard(async () => {
        const d = (await lean(m.notifications.findById(notificationKey(id, outTradeNo)))) as Doc | null;
        return d ? toNotification(d) : null;
      }),
    recordRejectedNotification: (x) => guard(async () => void (await m.rejected.create(x))),
    countRejectedNotifications: () => guard(() => m.rejected.countDocuments().exec()),
    trimRejectedNotifications: (keep) =>
      guard(async () => {
        const cutoff = (await lean(m.rejected.find().sort({ _id: -1 }).skip(keep).limit(1).select({ _id: 1 }))) as { _id: unknown }[];
        if (cutoff[0]) await m.rejected.deleteMany({ _id: t({ $lte: cutoff[0]._id }) });
      }),
    findShipment: (orderId) =>
      guard(async () => {
        const d = (await lean(m.shipments.findById(orderId))) as { doc: string } | null;
        return d ? (JSON.parse(d.doc) as Shipment) : null;
      }),
    saveShipment: (next, expected) =>
      guard(async () => {
        const fields = {
          status: next.status,
          upload: next.upload,
          version: next.version,
          doc: JSON.stringify(next),
          updatedAt: next.updatedAt,
        };
        if (expected === null) {
          try {
            await m.shipments.create({ _id: next.orderId, ...fields });
            return true;
          } catch (err) {
            if ((err as { code?: number }).code === 11000) return false; // one already exists
            throw err;
          }
        }
        const r = await m.shipments.updateOne({ _id: next.orderId, version: expected }, { $set: fields });
        return r.modifiedCount === 1;
      }),
    listShipmentsToSync: (limit) =>
      guard(async () => {
        const docs = (await lean(
          m.shipments
            .find(t({ $or: [{ upload: 'PENDING' }, { upload: 'ACCEPTED', status: { $ne: 'COMPLETED' } }] }))
            .sort({ updatedAt: 1 })
            .limit(limit),
        )) as { doc: string }[];
        return docs.map((d) => JSON.parse(d.doc) as Shipment);
      }),
    close: () => guard(() => conn.close()),
  };
  rememberConnection(store, conn);
  return store;
}
