// Every filter and update the MongoDB adapter sends, built by pure functions from the domain's values.
// Where the domain states a rule (orders to reconcile, refunds to reconcile, refund due, shipments to
// sync), the filter here is its translation, and the contract suite runs each, as mongoose sends it,
// against the domain's predicate. The connection sanitizes filters (`sanitizeFilter`): a value that is
// an object cannot act as an operator unless marked trusted here.
import type { Complaint } from '../../domain/complaint';
import type { SendCredit } from '../../domain/subscription';
import mongoose from 'mongoose';
import type { NotificationOutcome, NotificationRecord } from '../../domain/notification';
import type { Order, OrderFilter, OrderLease, PaymentAttempt } from '../../domain/order';
import type { PaidUpdate, RefundFields } from '../../domain/ports/store';
import type { PaymentRecord, Refund, RefundStatus } from '../../domain/refund';
import type { Shipment } from '../../domain/shipment';

export type Doc = Record<string, unknown>;

/** Our own operator, exempt from sanitizeFilter. */
export const t = <T extends object>(operator: T): T => mongoose.trusted(operator) as T;

const byId = (id: string): Doc => ({ _id: id });

// Users and sessions.
export const userUpsert = (openid: string, unionid: string | null, sessionKey: string, newId: string, now: number) => ({
  filter: { openid },
  update: { $set: { sessionKey, ...(unionid ? { unionid } : {}) }, $setOnInsert: { _id: newId, createdAt: now } },
});
export const sessionDoc = (s: { tokenHash: string; userId: string; expiresAt: number }): Doc => ({
  _id: s.tokenHash,
  userId: s.userId,
  expiresAt: s.expiresAt,
});
/** The session and its user in one round trip. */
export const sessionWithUser = (tokenHash: string) => [
  { $match: { _id: tokenHash } },
  { $lookup: { from: 'users', localField: 'userId', foreignField: '_id', as: 'users' } },
];
export const sessionsOfUser = (userId: string): Doc => ({ userId });
export const expiredSessions = (now: number): Doc => ({ expiresAt: t({ $lte: now }) });

// Catalog.
export const productSeed = (
  p: { sku: string; name: string; description: string; price: number; currency: string; maxQuantity: number },
  position: number,
) => ({
  updateOne: {
    filter: byId(p.sku),
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
});

// Orders and attempts.
export const orderDoc = (order: Order, lease: OrderLease | undefined): Doc => {
  const { id, ...fields } = order;
  return { _id: id, ...fields, leaseOwner: lease?.owner ?? null, leaseUntil: lease?.until ?? null };
};
export const attemptDoc = (a: PaymentAttempt): Doc => ({
  _id: a.outTradeNo,
  orderId: a.orderId,
  requestBody: a.requestBody,
  prepayId: a.prepayId,
  prepayExpiresAt: a.prepayExpiresAt,
  createdAt: a.createdAt,
});
export const orderByIdempotencyKey = (userId: string, key: string): Doc => ({ userId, idempotencyKey: key });
export const ordersOfUser = (userId: string): Doc => ({ userId });
export const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;
export const OLDEST_FIRST = { createdAt: 1, _id: 1 } as const;
/** The operator's list without the refund-due part, which needs the payments first (see refundDue). */
export const ordersMatching = (f: Omit<OrderFilter, 'limit'>, refundDueOrderIds: readonly string[] | null): Doc => ({
  ...(f.status ? { status: f.status } : {}),
  ...(f.createdBefore !== undefined ? { createdAt: t({ $lt: f.createdBefore }) } : {}),
  ...(refundDueOrderIds ? { _id: t({ $in: [...refundDueOrderIds] }) } : {}),
});
export const attemptsOfOrder = (orderId: string): Doc => ({ orderId });
export const prepaySet = (outTradeNo: string, prepayId: string, prepayExpiresAt: number) => ({
  filter: byId(outTradeNo),
  update: { $set: { prepayId, prepayExpiresAt } },
});
export const attemptSwitch = (orderId: string, previous: string, next: string, now: number) => ({
  filter: { _id: orderId, status: 'PENDING', outTradeNo: previous },
  update: { $set: { outTradeNo: next, updatedAt: now } },
});
export const orderPaid = (orderId: string, u: PaidUpdate, now: number) => ({
  filter: { _id: orderId, status: 'PENDING' },
  update: { $set: { status: 'PAID', transactionId: u.transactionId, paidAt: u.paidAt, updatedAt: now } },
});
export const orderClosed = (orderId: string, now: number) => ({
  filter: { _id: orderId, status: 'PENDING' },
  update: { $set: { status: 'CLOSED', closedAt: now, updatedAt: now } },
});
export const orderFlagged = (orderId: string, reason: string, now: number) => ({
  filter: { _id: orderId, reviewReason: null },
  update: { $set: { reviewReason: reason, updatedAt: now } },
});
const notLeasedAt = (now: number) => [{ leaseUntil: null }, { leaseUntil: t({ $lt: now }) }];
/** isReconcileCandidate (domain/order.ts). */
export const reconcileCandidates = (createdBefore: number, now: number): Doc => ({
  status: 'PENDING',
  reviewReason: null,
  createdAt: t({ $lte: createdBefore }),
  $or: notLeasedAt(now),
});

// Leases.
export const leaseClaim = (orderId: string, owner: string, leaseUntil: number, now: number) => ({
  filter: { _id: orderId, status: 'PENDING', $or: notLeasedAt(now) },
  update: { $set: { leaseOwner: owner, leaseUntil } },
});
export const leaseRelease = (orderId: string, owner: string) => ({
  filter: { _id: orderId, leaseOwner: owner },
  update: { $set: { leaseOwner: null, leaseUntil: null } },
});

// Payments and refunds.
export const paymentRecord = (p: Omit<PaymentRecord, 'refundReserved'>) => {
  const { transactionId, ...rest } = p;
  return { filter: byId(transactionId), update: { $setOnInsert: { ...rest, refundReserved: 0 } } };
};
export const paymentsOfOrder = (orderId: string): Doc => ({ orderId });
/** The payments (refunds, shipments) of a page of orders: one query each, whatever the page's size. */
export const ofOrders = (orderIds: readonly string[]): Doc => ({ orderId: t({ $in: [...orderIds] }) });
export const shipmentsOfOrders = (orderIds: readonly string[]): Doc => ({ _id: t({ $in: [...orderIds] }) });
/** isRefundDue (domain/refund.ts): a payment of another kind than ORDER, not yet reserved in full. */
export const refundDue = (): Doc => ({ kind: t({ $ne: 'ORDER' }), $expr: t({ $lt: ['$refundReserved', '$amount'] }) });
/** The conditional reservation: only while the payment's reserved total stays within its amount. */
export const refundReservation = (transactionId: string, amount: number) => ({
  filter: { _id: transactionId, $expr: t({ $lte: [{ $add: ['$refundReserved', { $literal: amount }] }, '$amount'] }) },
  update: { $inc: { refundReserved: amount } },
});
export const refundRelease = (transactionId: string, amount: number) => ({
  filter: byId(transactionId),
  update: { $inc: { refundReserved: -amount } },
});
export const refundDoc = (r: Refund): Doc => {
  const { id, ...rest } = r;
  return { _id: id, ...rest };
};
export const refundMove = (outRefundNo: string, from: readonly RefundStatus[], to: RefundStatus, fields: RefundFields, now: number) => {
  const set: Doc = { status: to, updatedAt: now };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) set[k] = v;
  return { filter: { outRefundNo, status: t({ $in: [...from] }) }, update: { $set: set } };
};
export const refundProviderId = (outRefundNo: string, providerRefundId: string, now: number) => ({
  filter: { outRefundNo, providerRefundId: null },
  update: { $set: { providerRefundId, updatedAt: now } },
});
export const refundByNo = (outRefundNo: string): Doc => ({ outRefundNo });
export const refundByIdempotencyKey = (orderId: string, key: string): Doc => ({ orderId, idempotencyKey: key });
export const refundsOfOrder = (orderId: string): Doc => ({ orderId });
/** isRefundToReconcile (domain/refund.ts). */
export const refundsToReconcile = (createdBefore: number): Doc => ({ status: 'PROCESSING', createdAt: t({ $lte: createdBefore }) });

// Notifications.
export const notificationKey = (id: string, outTradeNo: string | null) => `${id} ${outTradeNo ?? ''}`;
/**
 * One write that inserts the record or counts one more delivery: the first delivery's identity fields
 * stay, and outcome and detail are replaced only when the stored outcome is one the domain names.
 */
export const notificationUpsert = (rec: NotificationRecord, replaces: readonly NotificationOutcome[]) => {
  const { id, ...rest } = rec;
  const replace = { $or: [{ $eq: [{ $type: '$outcome' }, 'missing'] }, { $in: ['$outcome', { $literal: [...replaces] }] }] };
  const keep = (field: keyof typeof rest) => ({ $ifNull: [`$${field}`, { $literal: rest[field] }] });
  return {
    filter: byId(notificationKey(id, rec.outTradeNo)),
    update: [
      {
        $set: {
          notificationId: { $literal: id },
          eventType: keep('eventType'),
          outTradeNo: keep('outTradeNo'),
          transactionId: keep('transactionId'),
          requestId: keep('requestId'),
          firstReceivedAt: keep('firstReceivedAt'),
          lastReceivedAt: { $literal: rest.lastReceivedAt },
          deliveries: { $add: [{ $ifNull: ['$deliveries', 0] }, 1] },
          outcome: { $cond: [replace, { $literal: rest.outcome }, '$outcome'] },
          detail: { $cond: [replace, { $literal: rest.detail }, '$detail'] },
        },
      },
    ],
  };
};
export const notificationsFor = (outTradeNos: readonly string[]): Doc => ({ outTradeNo: t({ $in: [...outTradeNos] }) });
export const idsIn = (ids: readonly unknown[]): Doc => ({ _id: t({ $in: [...ids] }) });

// Keys used once.
/** The key's use, claimed only where it is free at `now`: a key still in use makes the upsert collide on _id (E11000). */
export const keyUse = (key: string, expiresAt: number, now: number) => ({
  filter: { _id: key, expiresAt: t({ $lte: now }) },
  update: { $set: { expiresAt } },
});
export const expiredUses = (now: number): Doc => ({ expiresAt: t({ $lte: now }) });

// Operator sessions.
export const opsSessionDoc = (x: { idHash: string; tokenFingerprint: string; createdAt: number; lastSeenAt: number }): Doc => ({
  _id: x.idHash,
  tokenFingerprint: x.tokenFingerprint,
  createdAt: x.createdAt,
  lastSeenAt: x.lastSeenAt,
});
export const opsSessionTouch = (idHash: string, lastSeenAt: number) => ({ filter: byId(idHash), update: { $max: { lastSeenAt } } });
export const endedOpsSessions = (createdBefore: number, seenBefore: number): Doc => ({
  $or: [{ createdAt: t({ $lte: createdBefore }) }, { lastSeenAt: t({ $lte: seenBefore }) }],
});

// Shipments.
export const shipmentFields = (s: Shipment): Doc => ({
  status: s.status,
  upload: s.upload,
  version: s.version,
  doc: JSON.stringify(s),
  updatedAt: s.updatedAt,
  claimUntil: s.uploadClaim?.until ?? null,
});
export const shipmentUpdate = (s: Shipment, expectedVersion: number) => ({
  filter: { _id: s.orderId, version: expectedVersion },
  update: { $set: shipmentFields(s) },
});
/** needsShipmentSync (domain/shipment.ts). */
export const shipmentsToSync = (now: number): Doc => ({
  $and: [
    { $or: [{ upload: 'PENDING' }, { upload: 'ACCEPTED', status: t({ $ne: 'COMPLETED' }) }] },
    { $or: [{ claimUntil: null }, { claimUntil: t({ $lte: now }) }] },
  ],
});

export { byId };

// Send credits.
export const creditFields = (c: SendCredit): Doc => ({
  orderId: c.orderId,
  state: c.state,
  claimUntil: c.claimUntil,
  createdAt: c.createdAt,
  version: c.version,
  doc: JSON.stringify(c),
});
/** isSendable (domain/subscription.ts). */
export const creditsToSend = (now: number): Doc => ({
  $or: [{ state: 'AVAILABLE' }, { state: 'SENDING', $or: [{ claimUntil: null }, { claimUntil: t({ $lte: now }) }] }],
});

// Complaints.
export const complaintFields = (c: Complaint): Doc => ({
  orderId: c.orderId,
  state: c.state,
  deadline: c.deadline,
  createdAt: c.createdAt,
  version: c.version,
  doc: JSON.stringify(c),
});
export const complaintUpdate = (c: Complaint, expectedVersion: number) => ({
  filter: { _id: c.id, version: expectedVersion },
  update: { $set: complaintFields(c) },
});
const complaintsMatching = (f: { state?: string; orderId?: string }): Doc => ({
  ...(f.state ? { state: f.state } : {}),
  ...(f.orderId ? { orderId: f.orderId } : {}),
});
/** Those with a deadline (open), and those without (resolved): each listed in its own index order. */
export const openComplaintsMatching = (f: { state?: string; orderId?: string }): Doc => ({
  ...complaintsMatching(f),
  deadline: t({ $ne: null }),
});
export const resolvedComplaintsMatching = (f: { state?: string; orderId?: string }): Doc => ({ ...complaintsMatching(f), deadline: null });

// The daily books.
/** Payments with from <= paidAt < to, after a cursor in (paidAt, _id) order: keyset pages along the index. */
export const paidBetween = (from: number, to: number, after: { at: number; key: string } | null): Doc => ({
  paidAt: t({ $gte: from, $lt: to }),
  ...(after !== null ? { $or: [{ paidAt: t({ $gt: after.at }) }, { paidAt: after.at, _id: t({ $gt: after.key }) }] } : {}),
});
/** Refunds with from <= createdAt < to, after a cursor in (createdAt, outRefundNo) order. */
export const refundsCreatedBetween = (from: number, to: number, after: { at: number; key: string } | null): Doc => ({
  createdAt: t({ $gte: from, $lt: to }),
  ...(after !== null ? { $or: [{ createdAt: t({ $gt: after.at }) }, { createdAt: after.at, outRefundNo: t({ $gt: after.key }) }] } : {}),
});
/** Days from..to inclusive (ids are YYYY-MM-DD, so they sort as dates). */
export const daysBetween = (from: string, to: string): Doc => ({ _id: t({ $gte: from, $lte: to }) });
/** A staged bill key: one document per (run, key), inserted once. */
export const billKey = (run: string, key: string) => ({
  updateOne: { filter: byId(`${run} ${key}`), update: { $setOnInsert: { run, key } }, upsert: true },
});
/** Which of these keys a run staged. */
export const stagedOf = (run: string, keys: readonly string[]): Doc => ({ run, key: t({ $in: [...keys] }) });
export const billKeysOf = (run: string): Doc => ({ run });
