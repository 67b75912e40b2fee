// MongoDB via mongoose, used when MONGODB_URI is set: stateless API instances share it. Transitions are
// conditional writes (the expected state in the filter); what the ports call atomic runs in one
// multi-document transaction, so the deployment must be a replica set (one node is enough) or a sharded
// cluster. A standalone server is refused at start: it would half-write where a transaction is needed.
import crypto from 'node:crypto';
import mongoose, { type ClientSession, type Connection, type Model } from 'mongoose';
import { StoreUnavailableError } from '../../domain/errors';
import { recordsOfPage, type Store } from '../../domain/ports/store';
import type { BookDay } from '../../domain/book-day';
import { byUrgency, type Complaint } from '../../domain/complaint';
import type { SendCredit } from '../../domain/subscription';
import type { PageCursor } from '../../domain/ports/books';
import { rememberConnection } from './connection';
import {
  rejectedDoc,
  toAttempt,
  toNotification,
  toOrder,
  toPayment,
  toProduct,
  toRefund,
  toSession,
  toShipment,
  toUser,
} from './documents';
import { guard } from './errors';
import { defineModels } from './models';
import * as q from './queries';

export interface MongoStoreOptions {
  uri: string;
  /** Fail fast when no server is reachable instead of buffering forever. */
  serverSelectionTimeoutMS?: number;
}

/**
 * How the adapter connects: filters are sanitized (a value that is an object cannot act as an operator;
 * the adapter's own operators are marked trusted), indexes are created by the adapter, not on the first
 * use of a model, and every write is acknowledged by a majority of the replica set and journaled, so a
 * PAID answered 204 cannot roll back on failover.
 */
export const CONNECTION_OPTIONS = (o: { serverSelectionTimeoutMS?: number }) => ({
  serverSelectionTimeoutMS: o.serverSelectionTimeoutMS ?? 1500,
  bufferCommands: false,
  autoIndex: false,
  sanitizeFilter: true,
  retryWrites: true,
  writeConcern: { w: 'majority' as const, journal: true },
});

/** The deployment cannot give the store what it needs (transactions). */
export class MongoDeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MongoDeploymentError';
  }
}

export async function createMongoStore(opts: MongoStoreOptions): Promise<Store> {
  const conn = mongoose.createConnection(opts.uri, CONNECTION_OPTIONS(opts));
  try {
    await conn.asPromise();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new StoreUnavailableError(err);
  }
  try {
    return await openMongoStore(conn);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}

/** The store over an open connection, once the deployment is known to run transactions. */
export async function openMongoStore(conn: Connection): Promise<Store> {
  await requireTransactions(conn);
  return createMongoStoreOn(conn);
}

/** Transactions need a replica set member or a mongos; a standalone server has neither. */
async function requireTransactions(conn: Connection): Promise<void> {
  const hello = (await guard(() => conn.db!.command({ hello: 1 }))) as { setName?: string; msg?: string };
  if (hello.setName || hello.msg === 'isdbgrid') return;
  throw new MongoDeploymentError(
    'MONGODB_URI names a standalone MongoDB server, but the store writes what must be atomic (a payment with its order) in transactions, ' +
      'which need a replica set: start mongod with --replSet rs0 and run rs.initiate() once (one node is enough), or use a hosted replica set',
  );
}

type Doc = Record<string, unknown> & { _id: string };
type AnyModel = Model<Record<string, unknown>>;

async function createMongoStoreOn(conn: Connection): Promise<Store> {
  const m = defineModels(conn) as unknown as Record<keyof ReturnType<typeof defineModels>, AnyModel>;
  // createIndexes only adds what is missing: unlike syncIndexes it never drops an index, and instances
  // starting together do not race to rebuild them.
  await guard(() => Promise.all(Object.values(m).map((model) => model.createIndexes())));
  const one = async (p: Promise<unknown>) => ((await p) as Doc | null) ?? null;
  const many = async (p: Promise<unknown>) => (await p) as Doc[];
  /** Runs `fn` in one transaction: all of its writes, or none. */
  const atomically = <T>(fn: (session: ClientSession) => Promise<T>): Promise<T> => guard(() => conn.transaction(fn));

  const findOrder = (id: string) => one(m.orders.findOne(q.byId(id)).lean().exec());
  const listPayments = (orderId: string) => many(m.payments.find(q.paymentsOfOrder(orderId)).sort({ paidAt: 1, _id: 1 }).lean().exec());
  const listRefunds = (orderId: string) => many(m.refunds.find(q.refundsOfOrder(orderId)).sort(q.OLDEST_FIRST).lean().exec());
  const findShipment = (orderId: string) => one(m.shipments.findOne(q.byId(orderId)).lean().exec());
  const releaseLease = (orderId: string, owner: string, session?: ClientSession) => {
    const r = q.leaseRelease(orderId, owner);
    return m.orders.updateOne(r.filter, r.update, { session });
  };
  const upsertNotification = async (...args: Parameters<typeof q.notificationUpsert>) => {
    const [rec, replaces] = args;
    const u = q.notificationUpsert(rec, replaces);
    const d = (await m.notifications
      .findOneAndUpdate(u.filter, u.update, { upsert: true, returnDocument: 'after', updatePipeline: true })
      .lean()
      .exec()) as Doc;
    return d;
  };

  /** Pages of `fetch` (by key, after `after`) without the keys staged under `run`, until `limit` are found or the pages end:
   *  two round trips a page, the bill's keys never held in memory. Without `run`, one page as it is. */
  async function notStaged(
    run: string | undefined,
    limit: number,
    after: PageCursor | null,
    fetch: (after: PageCursor | null) => Promise<unknown[]>,
    cursorOf: (d: Doc) => PageCursor,
  ): Promise<Doc[]> {
    if (run === undefined) return many(fetch(after) as Promise<Doc[]>);
    const found: Doc[] = [];
    for (let from = after; found.length < limit; ) {
      const page = await many(fetch(from) as Promise<Doc[]>);
      if (page.length === 0) break;
      const staged = new Set(
        (
          await many(
            m.billKeys
              .find(
                q.stagedOf(
                  run,
                  page.map((d) => cursorOf(d).key),
                ),
              )
              .lean()
              .exec(),
          )
        ).map((d) => d.key as string),
      );
      for (const d of page) if (!staged.has(cursorOf(d).key) && found.length < limit) found.push(d);
      if (page.length < limit) break;
      from = cursorOf(page[page.length - 1]!);
    }
    return found;
  }

  const store: Store = {
    kind: 'mongodb',
    upsertUser: ({ openid, unionid, sessionKey, now }) =>
      guard(async () => {
        const u = q.userUpsert(openid, unionid, sessionKey, `u_${crypto.randomUUID()}`, now);
        return toUser((await m.users.findOneAndUpdate(u.filter, u.update, { upsert: true, returnDocument: 'after' }).lean().exec()) as Doc);
      }),
    findUserById: (id) => guard(async () => await one(m.users.findOne(q.byId(id)).lean().exec()).then((d) => (d ? toUser(d) : null))),
    createSession: (s) => guard(async () => void (await m.sessions.insertOne(q.sessionDoc(s)))),
    findSession: (tokenHash) =>
      guard(async () => await one(m.sessions.findOne(q.byId(tokenHash)).lean().exec()).then((d) => (d ? toSession(d) : null))),
    findSessionUser: (tokenHash) =>
      guard(async () => {
        const [d] = (await m.sessions.aggregate(q.sessionWithUser(tokenHash)).exec()) as (Doc & { users: Doc[] })[];
        const user = d?.users[0];
        return d && user ? { session: toSession(d), user: toUser(user) } : null;
      }),
    deleteSession: (tokenHash) => guard(async () => void (await m.sessions.deleteOne(q.byId(tokenHash)))),
    deleteSessionsOfUser: (userId) => guard(async () => (await m.sessions.deleteMany(q.sessionsOfUser(userId))).deletedCount),
    purgeExpiredSessions: (now) => guard(async () => (await m.sessions.deleteMany(q.expiredSessions(now))).deletedCount),

    listProducts: () => guard(async () => (await many(m.products.find({}).sort({ position: 1 }).lean().exec())).map(toProduct)),
    seedProducts: (products) =>
      guard(async () => {
        await m.products.bulkWrite(products.map((p, position) => q.productSeed(p, position)));
      }),

    insertOrder: (order, attempt, lease) =>
      atomically(async (session) => {
        await m.attempts.insertOne(q.attemptDoc(attempt), { session });
        await m.orders.insertOne(q.orderDoc(order, lease), { session });
      }),
    findOrder: (id) => guard(async () => await findOrder(id).then((d) => (d ? toOrder(d) : null))),
    // The order and its records side by side: four queries, one round trip's wait.
    findOrderRecords: (id) =>
      guard(async () => {
        const [order, payments, refunds, shipment] = await Promise.all([
          findOrder(id),
          listPayments(id),
          listRefunds(id),
          findShipment(id),
        ]);
        return order
          ? {
              order: toOrder(order),
              payments: payments.map(toPayment),
              refunds: refunds.map(toRefund),
              shipment: shipment ? toShipment(shipment) : null,
            }
          : null;
      }),
    // A page's records: three queries side by side, one round trip's wait, whatever the page's size.
    findRecordsOfOrders: (orders) =>
      guard(async () => {
        if (orders.length === 0) return [];
        const ids = orders.map((o) => o.id);
        const [payments, refunds, shipments] = await Promise.all([
          many(m.payments.find(q.ofOrders(ids)).sort({ paidAt: 1, _id: 1 }).lean().exec()),
          many(m.refunds.find(q.ofOrders(ids)).sort(q.OLDEST_FIRST).lean().exec()),
          many(m.shipments.find(q.shipmentsOfOrders(ids)).lean().exec()),
        ]);
        return recordsOfPage(orders, payments.map(toPayment), refunds.map(toRefund), shipments.map(toShipment));
      }),
    findOrderByIdempotencyKey: (userId, key) =>
      guard(
        async () => await one(m.orders.findOne(q.orderByIdempotencyKey(userId, key)).lean().exec()).then((d) => (d ? toOrder(d) : null)),
      ),
    listOrdersByUser: (userId, limit) =>
      guard(async () => (await many(m.orders.find(q.ordersOfUser(userId)).sort(q.NEWEST_FIRST).limit(limit).lean().exec())).map(toOrder)),
    listOrders: (f) =>
      guard(async () => {
        const due = f.refundDue
          ? [...new Set((await many(m.payments.find(q.refundDue()).select({ orderId: 1 }).lean().exec())).map((d) => d.orderId as string))]
          : null;
        return (await many(m.orders.find(q.ordersMatching(f, due)).sort(q.NEWEST_FIRST).limit(f.limit).lean().exec())).map(toOrder);
      }),
    findAttempt: (outTradeNo) =>
      guard(async () => await one(m.attempts.findOne(q.byId(outTradeNo)).lean().exec()).then((d) => (d ? toAttempt(d) : null))),
    listAttempts: (orderId) =>
      guard(async () => (await many(m.attempts.find(q.attemptsOfOrder(orderId)).sort(q.OLDEST_FIRST).lean().exec())).map(toAttempt)),
    setPrepay: (outTradeNo, prepayId, prepayExpiresAt, release) => {
      const u = q.prepaySet(outTradeNo, prepayId, prepayExpiresAt);
      if (!release) return guard(async () => void (await m.attempts.updateOne(u.filter, u.update)));
      return atomically(async (session) => {
        await m.attempts.updateOne(u.filter, u.update, { session });
        await releaseLease(release.orderId, release.owner, session);
      });
    },
    replaceAttempt: (orderId, previous, attempt, now) =>
      atomically(async (session) => {
        const u = q.attemptSwitch(orderId, previous, attempt.outTradeNo, now);
        if ((await m.orders.updateOne(u.filter, u.update, { session })).modifiedCount !== 1) return false;
        await m.attempts.insertOne(q.attemptDoc(attempt), { session });
        return true;
      }),
    markPaid: (orderId, update, now, also) =>
      atomically(async (session) => {
        const u = q.orderPaid(orderId, update, now);
        if ((await m.orders.updateOne(u.filter, u.update, { session })).modifiedCount !== 1) return false;
        if (also) {
          const p = q.paymentRecord(also.payment);
          await m.payments.updateOne(p.filter, p.update, { upsert: true, session });
        }
        if (also?.notification) {
          const n = q.notificationUpsert(also.notification.record, also.notification.replaces);
          await m.notifications.updateOne(n.filter, n.update, { upsert: true, session, updatePipeline: true });
        }
        return true;
      }),
    markClosed: (orderId, now) =>
      guard(async () => {
        const u = q.orderClosed(orderId, now);
        return (await m.orders.updateOne(u.filter, u.update)).modifiedCount === 1;
      }),
    flagForReview: (orderId, reason, now) =>
      guard(async () => {
        const u = q.orderFlagged(orderId, reason, now);
        return (await m.orders.updateOne(u.filter, u.update)).modifiedCount === 1;
      }),
    listReconcileCandidates: (createdBefore, now, limit) =>
      guard(async () =>
        (await many(m.orders.find(q.reconcileCandidates(createdBefore, now)).sort(q.OLDEST_FIRST).limit(limit).lean().exec())).map(toOrder),
      ),

    claimOrder: (orderId, owner, leaseUntil, now) =>
      guard(async () => {
        const u = q.leaseClaim(orderId, owner, leaseUntil, now);
        return (await m.orders.updateOne(u.filter, u.update)).modifiedCount === 1;
      }),
    releaseOrder: (orderId, owner) => guard(async () => void (await releaseLease(orderId, owner))),

    recordPayment: (p) =>
      guard(async () => {
        const u = q.paymentRecord(p);
        return (await m.payments.updateOne(u.filter, u.update, { upsert: true })).upsertedCount === 1;
      }),
    findPayment: (transactionId) =>
      guard(async () => await one(m.payments.findOne(q.byId(transactionId)).lean().exec()).then((d) => (d ? toPayment(d) : null))),
    listPayments: (orderId) => guard(async () => (await listPayments(orderId)).map(toPayment)),
    insertRefund: (refund) =>
      atomically(async (session) => {
        const r = q.refundReservation(refund.transactionId, refund.amount);
        if ((await m.payments.updateOne(r.filter, r.update, { session })).modifiedCount !== 1) return false;
        await m.refunds.insertOne(q.refundDoc(refund), { session });
        return true;
      }),
    moveRefund: (outRefundNo, from, to, fields, release, now) =>
      atomically(async (session) => {
        const u = q.refundMove(outRefundNo, from, to, fields, now);
        const d = (await m.refunds.findOneAndUpdate(u.filter, u.update, { returnDocument: 'after', session }).lean().exec()) as Doc | null;
        if (!d) return false;
        if (release) {
          const r = q.refundRelease(d.transactionId as string, d.amount as number);
          await m.payments.updateOne(r.filter, r.update, { session });
        }
        return true;
      }),
    setRefundProviderId: (outRefundNo, providerRefundId, now) =>
      guard(async () => {
        const u = q.refundProviderId(outRefundNo, providerRefundId, now);
        await m.refunds.updateOne(u.filter, u.update);
      }),
    findRefund: (outRefundNo) =>
      guard(async () => await one(m.refunds.findOne(q.refundByNo(outRefundNo)).lean().exec()).then((d) => (d ? toRefund(d) : null))),
    findRefundByIdempotencyKey: (orderId, key) =>
      guard(
        async () =>
          await one(m.refunds.findOne(q.refundByIdempotencyKey(orderId, key)).lean().exec()).then((d) => (d ? toRefund(d) : null)),
      ),
    listRefunds: (orderId) => guard(async () => (await listRefunds(orderId)).map(toRefund)),
    listRefundsToReconcile: (createdBefore, limit) =>
      guard(async () =>
        (await many(m.refunds.find(q.refundsToReconcile(createdBefore)).sort(q.OLDEST_FIRST).limit(limit).lean().exec())).map(toRefund),
      ),

    recordNotification: (rec, replaces) =>
      guard(async () => {
        const record = toNotification(await upsertNotification(rec, replaces));
        return { record, duplicate: record.deliveries > 1 };
      }),
    findNotification: (id, outTradeNo) =>
      guard(
        async () =>
          await one(
            m.notifications
              .findOne(q.byId(q.notificationKey(id, outTradeNo)))
              .lean()
              .exec(),
          ).then((d) => (d ? toNotification(d) : null)),
      ),
    listNotificationsFor: (outTradeNos) =>
      guard(async () =>
        (await many(m.notifications.find(q.notificationsFor(outTradeNos)).sort({ firstReceivedAt: 1, _id: 1 }).lean().exec())).map(
          toNotification,
        ),
      ),
    recordRejectedNotification: (x) => guard(async () => void (await m.rejected.insertOne(rejectedDoc(x)))),
    countRejectedNotifications: () => guard(() => m.rejected.countDocuments({}).exec()),
    trimRejectedNotifications: (keep) =>
      guard(async () => {
        const older = await many(m.rejected.find({}).sort({ receivedAt: -1, _id: -1 }).skip(keep).select({ _id: 1 }).lean().exec());
        if (older.length) await m.rejected.deleteMany(q.idsIn(older.map((d) => d._id)));
      }),

    findShipment: (orderId) => guard(async () => await findShipment(orderId).then((d) => (d ? toShipment(d) : null))),
    saveShipment: (next, expected) =>
      guard(async () => {
        if (expected === null) {
          try {
            await m.shipments.insertOne({ _id: next.orderId, ...q.shipmentFields(next) });
            return true;
          } catch (err) {
            if ((err as { code?: number }).code === 11000) return false; // one already exists
            throw err;
          }
        }
        const u = q.shipmentUpdate(next, expected);
        return (await m.shipments.updateOne(u.filter, u.update)).modifiedCount === 1;
      }),
    listShipmentsToSync: (now, limit) =>
      guard(async () =>
        (await many(m.shipments.find(q.shipmentsToSync(now)).sort({ updatedAt: 1, _id: 1 }).limit(limit).lean().exec())).map(toShipment),
      ),

    claimOnce: (key, expiresAt, now) =>
      guard(async () => {
        const u = q.keyUse(key, expiresAt, now);
        try {
          const r = await m.usedKeys.updateOne(u.filter, u.update, { upsert: true });
          return r.upsertedCount === 1 || r.modifiedCount === 1;
        } catch (err) {
          if ((err as { code?: number }).code === 11000) return false; // in use
          throw err;
        }
      }),
    releaseClaim: (key) => guard(async () => void (await m.usedKeys.deleteOne(q.byId(key)))),
    purgeClaims: (now) => guard(async () => (await m.usedKeys.deleteMany(q.expiredUses(now))).deletedCount),
    createOpsSession: (x) => guard(async () => void (await m.opsSessions.insertOne(q.opsSessionDoc(x)))),
    findOpsSession: (idHash) =>
      guard(async () => {
        const d = await one(m.opsSessions.findOne(q.byId(idHash)).lean().exec());
        return d
          ? {
              idHash: d._id,
              tokenFingerprint: d.tokenFingerprint as string,
              createdAt: d.createdAt as number,
              lastSeenAt: d.lastSeenAt as number,
            }
          : null;
      }),
    touchOpsSession: (idHash, lastSeenAt) =>
      guard(async () => {
        const u = q.opsSessionTouch(idHash, lastSeenAt);
        await m.opsSessions.updateOne(u.filter, u.update);
      }),
    deleteOpsSession: (idHash) => guard(async () => void (await m.opsSessions.deleteOne(q.byId(idHash)))),
    insertCredit: (c) =>
      guard(async () => {
        try {
          await m.sendCredits.insertOne({ _id: c.id, ...q.creditFields(c) });
          return true;
        } catch (err) {
          if ((err as { code?: number }).code === 11000) return false; // the first acceptance stands
          throw err;
        }
      }),
    saveCredit: (c, expected) =>
      guard(async () => (await m.sendCredits.updateOne({ _id: c.id, version: expected }, { $set: q.creditFields(c) })).modifiedCount === 1),
    listCredits: (orderId) =>
      guard(async () =>
        (await many(m.sendCredits.find({ orderId }).sort({ createdAt: 1, _id: 1 }).lean().exec())).map(
          (d) => JSON.parse(d.doc as string) as SendCredit,
        ),
      ),
    listCreditsToSend: (now, limit) =>
      guard(async () =>
        (await many(m.sendCredits.find(q.creditsToSend(now)).sort({ createdAt: 1, _id: 1 }).limit(limit).lean().exec())).map(
          (d) => JSON.parse(d.doc as string) as SendCredit,
        ),
      ),
    findComplaint: (id) =>
      guard(async () => {
        const d = await one(m.complaints.findOne(q.byId(id)).lean().exec());
        return d ? (JSON.parse(d.doc as string) as Complaint) : null;
      }),
    saveComplaint: (next, expected) =>
      guard(async () => {
        if (expected === null) {
          try {
            await m.complaints.insertOne({ _id: next.id, ...q.complaintFields(next) });
            return true;
          } catch (err) {
            if ((err as { code?: number }).code === 11000) return false; // one already exists
            throw err;
          }
        }
        const u = q.complaintUpdate(next, expected);
        return (await m.complaints.updateOne(u.filter, u.update)).modifiedCount === 1;
      }),
    // The same order as SQLite's: open ones by deadline, then the resolved (no deadline), newest first; each part read
    // in its index order, at most `limit` documents.
    listComplaints: (f) =>
      guard(async () => {
        const parse = (d: Doc) => JSON.parse(d.doc as string) as Complaint;
        const open = (
          await many(m.complaints.find(q.openComplaintsMatching(f)).sort({ deadline: 1, createdAt: -1 }).limit(f.limit).lean().exec())
        ).map(parse);
        if (open.length >= f.limit) return open.sort(byUrgency);
        const resolved = (
          await many(
            m.complaints
              .find(q.resolvedComplaintsMatching(f))
              .sort({ createdAt: -1 })
              .limit(f.limit - open.length)
              .lean()
              .exec(),
          )
        ).map(parse);
        return [...open.sort(byUrgency), ...resolved];
      }),
    saveBookDay: (day) =>
      guard(async () => void (await m.books.updateOne(q.byId(day.date), { $set: { doc: JSON.stringify(day) } }, { upsert: true }))),
    findBookDay: (date) =>
      guard(async () => {
        const d = await one(m.books.findOne(q.byId(date)).lean().exec());
        return d ? (JSON.parse(d.doc as string) as BookDay) : null;
      }),
    listBookDays: (from, to) =>
      guard(async () =>
        (await many(m.books.find(q.daysBetween(from, to)).sort({ _id: -1 }).lean().exec())).map(
          (d) => JSON.parse(d.doc as string) as BookDay,
        ),
      ),
    listPaymentsPaidBetween: (from, to, after, limit, notIn) =>
      guard(async () =>
        (
          await notStaged(
            notIn,
            limit,
            after,
            (a) =>
              m.payments
                .find(q.paidBetween(from, to, a))
                .sort({ paidAt: 1, _id: 1 })
                .limit(limit)
                .lean()
                .exec(),
            (d) => ({ at: d.paidAt as number, key: d._id as string }),
          )
        ).map(toPayment),
      ),
    listRefundsCreatedBetween: (from, to, after, limit, notIn) =>
      guard(async () =>
        (
          await notStaged(
            notIn,
            limit,
            after,
            (a) =>
              m.refunds
                .find(q.refundsCreatedBetween(from, to, a))
                .sort({ createdAt: 1, outRefundNo: 1 })
                .limit(limit)
                .lean()
                .exec(),
            (d) => ({ at: d.createdAt as number, key: d.outRefundNo as string }),
          )
        ).map(toRefund),
      ),
    stageBillKeys: (run, keys) =>
      guard(async () => {
        if (keys.length) await m.billKeys.bulkWrite(keys.map((k) => q.billKey(run, k)));
      }),
    dropBillKeys: (run) => guard(async () => void (await m.billKeys.deleteMany(q.billKeysOf(run)))),
    purgeOpsSessions: (createdBefore, seenBefore) =>
      guard(async () => (await m.opsSessions.deleteMany(q.endedOpsSessions(createdBefore, seenBefore))).deletedCount),
    close: () => guard(() => conn.close()),
  };
  rememberConnection(store, conn);
  return store;
}
